//! ngx.var (ngx_http_lua_variable.c).

use mlua::{Lua, Table, Value};

use super::req;
use crate::request::vars;

pub fn register(lua: &Lua, c: &Table) -> mlua::Result<()> {
    c.set(
        "var_get",
        lua.create_function(|lua, (_t, k): (Table, Value)| {
            let r = req()?;
            let name = match &k {
                Value::String(s) => s.to_string_lossy().to_ascii_lowercase(),
                // ngx.var[1]: regex captures of the location (none yet)
                Value::Integer(_) | Value::Number(_) => return Ok(Value::Nil),
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "bad variable name type {}",
                        other.type_name()
                    )))
                }
            };
            match vars::get(&r, &name) {
                Some(v) => Ok(Value::String(lua.create_string(&v)?)),
                None => Ok(Value::Nil),
            }
        })?,
    )?;
    c.set(
        "var_set",
        lua.create_function(|_, (_t, k, v): (Table, mlua::LuaString, Value)| {
            let r = req()?;
            let name = k.to_string_lossy().to_ascii_lowercase();
            let val = match &v {
                Value::Nil => None,
                Value::String(s) => Some(s.as_bytes().to_vec()),
                Value::Integer(i) => Some(i.to_string().into_bytes()),
                Value::Number(n) => {
                    let mut b = Vec::new();
                    super::fmt_number(*n, &mut b);
                    Some(b)
                }
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "bad variable value type {}",
                        other.type_name()
                    )))
                }
            };
            vars::set(&r, &name, val.as_deref()).map_err(mlua::Error::runtime)
        })?,
    )?;
    Ok(())
}
