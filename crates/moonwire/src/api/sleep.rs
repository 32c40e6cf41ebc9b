//! ngx.sleep (ngx_http_lua_sleep.c): suspend only the calling coroutine.

use std::time::Duration;

use mlua::{Lua, MultiValue, Table, Value};

use super::{check_phase, YIELDABLE};
use crate::lua::driver::{set_pending, Pending, Resumer};

pub fn register(lua: &Lua, c: &Table) -> mlua::Result<()> {
    c.set(
        "sleep",
        lua.create_function(|lua, args: mlua::MultiValue| {
            if args.is_empty() {
                return Err(super::lua_err(
                    lua,
                    2,
                    "attempt to pass 0 arguments, but accepted 1",
                ));
            }
            let secs = match args.front().cloned().unwrap_or(Value::Nil) {
                Value::Integer(i) => i as f64,
                Value::Number(n) => n,
                Value::String(s) => s.to_str()?.trim().parse::<f64>().map_err(|_| {
                    mlua::Error::runtime("bad argument #1 to 'sleep' (number expected, got string)")
                })?,
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "bad argument #1 to 'sleep' (number expected, got {})",
                        other.type_name()
                    )))
                }
            };
            let ms = (secs * 1000.0) as i64;
            if ms < 0 {
                return Err(super::lua_err(
                    lua,
                    2,
                    format!("invalid sleep duration \"{ms}\""),
                ));
            }
            check_phase(YIELDABLE)?;
            set_pending(Pending::Wait(Box::pin(async move {
                if ms == 0 {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(Duration::from_millis(ms as u64)).await;
                }
                ngx_util::update_time();
                let r: Resumer = Box::new(|_| Ok(MultiValue::new()));
                r
            })));
            Ok(crate::lua::yield_marker())
        })?,
    )
}
