//! ngx.header, ngx.status, ngx.headers_sent, ngx.resp.get_headers
//! (ngx_http_lua_headers.c, _headers_out.c, _misc.c).

use std::ffi::c_int;

use mlua::{ffi, Lua, Table, Value};

use super::req;
use super::req::insert_multi;
use crate::log::Level;
use crate::lua::raw::{self, State};

/// Collect the header value(s) at `idx`: nil clears, a table gives several.
unsafe fn raw_values(l: State, idx: c_int) -> Result<Vec<Vec<u8>>, String> {
    let one = |l: State, i: c_int| -> Result<Vec<u8>, String> {
        match ffi::lua_type(l, i) {
            ffi::LUA_TSTRING | ffi::LUA_TNUMBER => Ok(raw::to_bytes(l, i).to_vec()),
            ffi::LUA_TBOOLEAN => Ok(if ffi::lua_toboolean(l, i) != 0 {
                b"true".to_vec()
            } else {
                b"false".to_vec()
            }),
            t => Err(format!(
                "attempt to set header value of type {}",
                raw::type_name(t)
            )),
        }
    };
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNIL => Ok(Vec::new()),
        ffi::LUA_TTABLE => {
            let n = ffi::lua_objlen(l, idx);
            let mut v = Vec::with_capacity(n);
            for i in 1..=n {
                ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
                let r = one(l, ffi::lua_gettop(l));
                ffi::lua_pop(l, 1);
                v.push(r?);
            }
            Ok(v)
        }
        _ => Ok(vec![one(l, idx)?]),
    }
}

unsafe fn header_set_impl(l: State) -> Result<(), String> {
    if ffi::lua_type(l, 2) != ffi::LUA_TSTRING {
        return Err("bad argument #2 to '__newindex' (string expected)".into());
    }
    let name = resp_header_name(raw::to_bytes(l, 2));
    let values = raw_values(l, 3)?;
    set_header(&name, values).map_err(|e| crate::lua::driver::error_message(&e))
}

unsafe extern "C-unwind" fn header_set_c(l: State) -> c_int {
    match header_set_impl(l) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

unsafe extern "C-unwind" fn header_get_c(l: State) -> c_int {
    let r = match req() {
        Ok(r) => r,
        Err(e) => raw::raise(l, crate::lua::driver::error_message(&e)),
    };
    if ffi::lua_type(l, 2) != ffi::LUA_TSTRING {
        drop(r);
        ffi::lua_pushnil(l);
        return 1;
    }
    let name = String::from_utf8_lossy(raw::to_bytes(l, 2)).into_owned();
    let name = if r.loc.transform_underscores {
        name.replace('_', "-")
    } else {
        name
    };
    let resp = r.resp.borrow();
    if name.eq_ignore_ascii_case("content-type") {
        match &resp.content_type {
            Some(c) => raw::push_bytes(l, c),
            None => ffi::lua_pushnil(l),
        }
    } else if name.eq_ignore_ascii_case("content-length") {
        match resp.content_length {
            Some(n) => raw::push_bytes(l, n.to_string().as_bytes()),
            None => ffi::lua_pushnil(l),
        }
    } else {
        let mut it = resp
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(&name));
        match (it.next(), it.next()) {
            (None, _) => ffi::lua_pushnil(l),
            (Some((_, v)), None) => raw::push_bytes(l, v),
            (Some((_, a)), Some((_, b))) => {
                ffi::lua_createtable(l, 2, 0);
                raw::push_bytes(l, a);
                ffi::lua_rawseti(l, -2, 1);
                raw::push_bytes(l, b);
                ffi::lua_rawseti(l, -2, 2);
                for (i, (_, v)) in it.enumerate() {
                    raw::push_bytes(l, v);
                    ffi::lua_rawseti(l, -2, i as ffi::lua_Integer + 3);
                }
            }
        }
    }
    1
}

fn set_header(name: &str, values: Vec<Vec<u8>>) -> mlua::Result<()> {
    set_or_add_header(name, values, true)
}

fn set_or_add_header(name: &str, values: Vec<Vec<u8>>, replace: bool) -> mlua::Result<()> {
    let r = req()?;
    let name = name.to_string();
    let mut resp = r.resp.borrow_mut();
    if resp.headers_sent {
        drop(resp);
        r.log(
            Level::Error,
            "attempt to set ngx.header.HEADER after sending out response headers",
        );
        return Ok(());
    }
    if name.eq_ignore_ascii_case("content-type") {
        resp.content_type = values.into_iter().last();
        resp.content_type_cleared = resp.content_type.is_none();
        return Ok(());
    }
    if name.eq_ignore_ascii_case("content-length") {
        resp.content_length = match values.last() {
            None => None,
            Some(v) => Some(
                std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or_else(|| mlua::Error::runtime("invalid Content-Length header value"))?,
            ),
        };
        return Ok(());
    }
    if !replace {
        for v in values {
            resp.headers.push((name.clone().into_boxed_str(), v));
        }
        return Ok(());
    }
    // keep the position of the first existing occurrence so header order stays stable
    let pos = resp.find_header(&name);
    resp.remove_header(&name);
    let at = pos.unwrap_or(resp.headers.len()).min(resp.headers.len());
    for (i, v) in values.into_iter().enumerate() {
        resp.headers
            .insert(at + i, (name.clone().into_boxed_str(), v));
    }
    Ok(())
}

/// `ngx.header.foo_bar` names `Foo-Bar` unless
/// `lua_transform_underscores_in_response_headers off`.
fn resp_header_name(name: &[u8]) -> String {
    let name = String::from_utf8_lossy(name).into_owned();
    let transform =
        crate::lua::driver::with_current(|r| r.is_none_or(|r| r.loc.transform_underscores));
    if transform {
        name.replace('_', "-")
    } else {
        name
    }
}

/// `require("ngx.resp").add_header(name, value)`: adds, never replaces
/// (except the single-valued Content-Type and Content-Length).
unsafe fn resp_add_header(l: State) -> Result<(), String> {
    if ffi::lua_gettop(l) != 2 {
        return Err(format!(
            "expecting 2 arguments but seen {}",
            ffi::lua_gettop(l)
        ));
    }
    if ffi::lua_type(l, 1) != ffi::LUA_TSTRING {
        return Err(format!(
            "bad argument #1 to 'add_header' (string expected, got {})",
            raw::type_name(ffi::lua_type(l, 1))
        ));
    }
    let name = resp_header_name(raw::to_bytes(l, 1));
    let values = raw_values(l, 2)?;
    let single =
        name.eq_ignore_ascii_case("content-type") || name.eq_ignore_ascii_case("content-length");
    set_or_add_header(&name, values, single).map_err(|e| crate::lua::driver::error_message(&e))
}

unsafe extern "C-unwind" fn resp_add_header_c(l: State) -> c_int {
    match resp_add_header(l) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

/// `require("ngx.resp").set_status(status, reason?)`: the status with an
/// optional reason phrase of the caller's choosing.
unsafe fn resp_set_status(l: State) -> Result<(), String> {
    let status = match ffi::lua_type(l, 1) {
        ffi::LUA_TNUMBER => ffi::lua_tonumber(l, 1) as i64,
        ffi::LUA_TSTRING => std::str::from_utf8(raw::to_bytes(l, 1))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0),
        t => {
            return Err(format!(
                "bad argument #1 to 'set_status' (number expected, got {})",
                raw::type_name(t)
            ))
        }
    };
    let reason = match ffi::lua_type(l, 2) {
        ffi::LUA_TNIL | ffi::LUA_TNONE => None,
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => Some(raw::to_bytes(l, 2).to_vec()),
        t => {
            return Err(format!(
                "bad argument #2 to 'set_status' (string expected, got {})",
                raw::type_name(t)
            ))
        }
    };
    let r = req().map_err(|e| crate::lua::driver::error_message(&e))?;
    let mut resp = r.resp.borrow_mut();
    if resp.headers_sent {
        drop(resp);
        r.log(
            Level::Error,
            "attempt to set ngx.status after sending out response headers",
        );
        return Ok(());
    }
    if !(100..=999).contains(&status) {
        return Err(format!("invalid HTTP status code {status}"));
    }
    resp.status = status as u16;
    resp.reason = reason;
    Ok(())
}

unsafe extern "C-unwind" fn resp_set_status_c(l: State) -> c_int {
    match resp_set_status(l) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

pub fn register(lua: &Lua, ngx: &Table, c: &Table) -> mlua::Result<()> {
    // SAFETY: both follow the raw-function rule in lua/raw.rs.
    unsafe {
        c.set("resp_add_header", lua.create_c_function(resp_add_header_c)?)?;
        c.set("resp_set_status", lua.create_c_function(resp_set_status_c)?)?;
    }
    // SAFETY: both follow the raw-function rule in lua/raw.rs.
    c.set("header_get", unsafe {
        lua.create_c_function(header_get_c)?
    })?;
    c.set("header_set", unsafe {
        lua.create_c_function(header_set_c)?
    })?;
    c.set(
        "get_status",
        lua.create_function(|_, ()| Ok(req()?.resp.borrow().status))?,
    )?;
    c.set(
        "set_status",
        lua.create_function(|_, v: Value| {
            let r = req()?;
            let status = match &v {
                Value::Integer(i) => *i,
                Value::Number(n) => *n as i64,
                Value::String(s) => s.to_str()?.trim().parse::<i64>().map_err(|_| {
                    mlua::Error::runtime("bad argument #3 to '?' (number expected, got string)")
                })?,
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "bad argument #3 to '?' (number expected, got {})",
                        other.type_name()
                    )))
                }
            };
            let mut resp = r.resp.borrow_mut();
            if resp.headers_sent {
                drop(resp);
                r.log(
                    Level::Error,
                    "attempt to set ngx.status after sending out response headers",
                );
                return Ok(());
            }
            if !(100..=999).contains(&status) {
                return Err(mlua::Error::runtime(format!(
                    "invalid HTTP status code {status}"
                )));
            }
            resp.status = status as u16;
            Ok(())
        })?,
    )?;
    c.set(
        "headers_sent",
        lua.create_function(|_, ()| Ok(req()?.resp.borrow().headers_sent))?,
    )?;
    let resp_t = lua.create_table()?;
    resp_t.set(
        "get_headers",
        lua.create_function(|lua, (max, raw): (Option<i64>, Option<bool>)| {
            let r = req()?;
            let resp = r.resp.borrow();
            let max = match max {
                None => 100,
                Some(n) if n <= 0 => usize::MAX,
                Some(n) => n as usize,
            };
            let raw = raw.unwrap_or(false);
            let t = lua.create_table()?;
            let mut count = 0;
            let mut truncated = None;
            let mut add = |name: &str, v: &[u8]| -> mlua::Result<()> {
                if count >= max {
                    truncated = Some("truncated");
                    return Ok(());
                }
                count += 1;
                let n = if raw {
                    lua.create_string(name)?
                } else {
                    lua.create_string(name.to_ascii_lowercase())?
                };
                insert_multi(lua, &t, n, Value::String(lua.create_string(v)?))
            };
            if let Some(ct) = &resp.content_type {
                add("Content-Type", ct)?;
            }
            if let Some(cl) = resp.content_length {
                add("Content-Length", cl.to_string().as_bytes())?;
            }
            for (n, v) in &resp.headers {
                add(n, v)?;
            }
            Ok((t, truncated))
        })?,
    )?;
    ngx.set("resp", resp_t)?;
    Ok(())
}
