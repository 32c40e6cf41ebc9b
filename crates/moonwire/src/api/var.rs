//! ngx.var (ngx_http_lua_variable.c).

use std::ffi::c_int;

use mlua::{ffi, Lua, Table, Value};

use super::req;
use crate::lua::raw::{self, State};
use crate::request::vars;

/// `ngx.var.NAME` (the proxy table's __index): on every request's hot path.
unsafe extern "C-unwind" fn var_get(l: State) -> c_int {
    let r = match req() {
        Ok(r) => r,
        Err(e) => raw::raise(l, crate::lua::driver::error_message(&e)),
    };
    let v = match ffi::lua_type(l, 2) {
        ffi::LUA_TSTRING => {
            let name = raw::to_bytes(l, 2);
            let lower;
            let name = if name.iter().any(|b| b.is_ascii_uppercase()) {
                lower = name.to_ascii_lowercase();
                &lower[..]
            } else {
                name
            };
            std::str::from_utf8(name)
                .ok()
                .and_then(|n| vars::get(&r, n))
        }
        ffi::LUA_TNUMBER => {
            let n = ffi::lua_tonumber(l, 2);
            if n >= 0.0 && n.fract() == 0.0 {
                vars::capture(&r, n as usize)
            } else {
                None
            }
        }
        _ => None,
    };
    drop(r);
    match v {
        Some(v) => raw::push_bytes(l, &v),
        None => ffi::lua_pushnil(l),
    }
    1
}

pub fn register(lua: &Lua, c: &Table) -> mlua::Result<()> {
    // SAFETY: follows the raw-function rule in lua/raw.rs.
    c.set("var_get", unsafe { lua.create_c_function(var_get)? })?;
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
