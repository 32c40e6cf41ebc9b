//! ngx.exit and ngx.redirect (ngx_http_lua_control.c).

use mlua::{Lua, Table, Value};

use super::{check_phase, phase, req, YIELDABLE};
use crate::lua::driver::{set_pending, Pending};
use crate::request::Phase;

pub fn register(lua: &Lua, _ngx: &Table, c: &Table) -> mlua::Result<()> {
    c.set(
        "exit",
        lua.create_function(|_, status: Value| {
            let code = match status {
                Value::Integer(i) => i,
                Value::Number(n) => n as i64,
                Value::String(_) => {
                    return Err(mlua::Error::runtime(
                        "bad argument #1 to 'exit' (number expected, got string)",
                    ))
                }
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "bad argument #1 to 'exit' (number expected, got {})",
                        other.type_name()
                    )))
                }
            };
            check_phase(&[Phase::Content, Phase::Timer])?;
            if phase() == Phase::Timer {
                // in a timer, ngx.exit just ends the callback
                set_pending(Pending::Exit(code));
                return Ok(crate::lua::yield_marker());
            }
            req()?;
            set_pending(Pending::Exit(code));
            Ok(crate::lua::yield_marker())
        })?,
    )?;
    c.set(
        "redirect",
        lua.create_function(|lua, (uri, status): (mlua::LuaString, Option<i64>)| {
            check_phase(YIELDABLE)?;
            let r = req()?;
            let status = status.unwrap_or(302);
            if !matches!(status, 301 | 302 | 303 | 307 | 308) {
                return Err(super::lua_err(lua, 2,
                    "only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed",
                ));
            }
            let mut resp = r.resp.borrow_mut();
            if resp.headers_sent {
                return Err(super::lua_err(lua, 2, "attempt to call ngx.redirect after sending out the headers"));
            }
            resp.remove_header("location");
            resp.headers.push(("Location".into(), uri.as_bytes().to_vec()));
            set_pending(Pending::Exit(status));
            Ok(crate::lua::yield_marker())
        })?,
    )?;
    Ok(())
}
