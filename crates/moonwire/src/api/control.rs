//! ngx.exit and ngx.redirect (ngx_http_lua_control.c).

use mlua::{Lua, Table, Value};

use super::{check_phase, phase, req};
use crate::lua::driver::{set_pending, Pending};
use crate::request::Phase;

/// Where ngx.exit works.
const EXIT: &[Phase] = &[
    Phase::ServerRewrite,
    Phase::Rewrite,
    Phase::Access,
    Phase::Precontent,
    Phase::Content,
    Phase::HeaderFilter,
    Phase::Timer,
];

/// Where the request may be sent elsewhere (ngx.exec).
const EXEC: &[Phase] = &[
    Phase::ServerRewrite,
    Phase::Rewrite,
    Phase::Access,
    Phase::Precontent,
    Phase::Content,
];

pub fn register(lua: &Lua, _ngx: &Table, c: &Table) -> mlua::Result<()> {
    c.set(
        "exec",
        lua.create_function(|lua, (uri, args): (Value, Option<mlua::LuaString>)| {
            let uri = match uri {
                Value::String(s) => s.as_bytes().to_vec(),
                Value::Integer(_) | Value::Number(_) => {
                    let mut b = Vec::new();
                    super::output::render_send(lua, &uri, &mut b, true)?;
                    b
                }
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "bad argument #1 to 'exec' (string expected, got {})",
                        other.type_name()
                    )))
                }
            };
            check_phase(EXEC)?;
            let r = req()?;
            if uri.is_empty() {
                return Err(super::lua_err(lua, 2, "The uri argument is empty"));
            }
            if r.resp.borrow().headers_sent {
                return Err(mlua::Error::runtime(
                    "attempt to call ngx.exec after sending out response headers",
                ));
            }
            let (path, mut query) = match memchr::memchr(b'?', &uri) {
                Some(i) => (uri[..i].to_vec(), Some(uri[i + 1..].to_vec())),
                None => (uri, None),
            };
            if let Some(a) = args.filter(|a| !a.as_bytes().is_empty()) {
                query = Some(match query {
                    Some(mut q) if !q.is_empty() => {
                        q.push(b'&');
                        q.extend_from_slice(&a.as_bytes());
                        q
                    }
                    _ => a.as_bytes().to_vec(),
                });
            }
            *r.exec.borrow_mut() = Some(crate::request::ExecTarget {
                uri: path.into(),
                args: query.map(Into::into),
            });
            set_pending(Pending::Exit(0));
            Ok(crate::lua::yield_marker())
        })?,
    )?;
    c.set(
        "arg_get",
        lua.create_function(|lua, (_t, i): (Table, Value)| {
            use crate::request::filter::{arg_get, ArgValue};
            let Some(r) = crate::lua::driver::current() else {
                return Ok(Value::Nil);
            };
            let i = match i {
                Value::Integer(i) => i,
                Value::Number(n) if n.fract() == 0.0 => n as i64,
                _ => return Ok(Value::Nil),
            };
            Ok(match arg_get(&r, i) {
                ArgValue::Nil => Value::Nil,
                ArgValue::Str(s) => Value::String(lua.create_string(&s)?),
                ArgValue::Bool(b) => Value::Boolean(b),
            })
        })?,
    )?;
    c.set(
        "arg_set",
        lua.create_function(|lua, (_t, i, v): (Table, Value, Value)| {
            use crate::request::LuaArg;
            check_phase(&[Phase::BodyFilter])?;
            let r = req()?;
            let mut arg = r.lua_arg.borrow_mut();
            let LuaArg::Body { data, eof } = &mut *arg else {
                return Ok(());
            };
            match i {
                Value::Integer(1) => {
                    data.clear();
                    match &v {
                        Value::Nil => {}
                        Value::Boolean(_) => {
                            return Err(mlua::Error::runtime(
                                "bad argument #3 to '__newindex' (string, number, nil, or table expected, but got boolean)",
                            ))
                        }
                        _ => super::output::render_send(lua, &v, data, true)?,
                    }
                }
                Value::Integer(2) => *eof = !matches!(v, Value::Nil | Value::Boolean(false)),
                _ => {
                    return Err(mlua::Error::runtime(
                        "bad index: 3",
                    ))
                }
            }
            Ok(())
        })?,
    )?;
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
            check_phase(EXIT)?;
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
            check_phase(EXEC)?;
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
