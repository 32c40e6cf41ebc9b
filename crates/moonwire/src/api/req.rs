//! ngx.req.* reads (ngx_http_lua_req_method.c, _args.c, _headers.c, _misc.c).

use std::ffi::c_int;

use mlua::{ffi, Lua, Table, Value};

use super::req;
use crate::lua::raw::{self, State};

/// Insert `k = v`, turning repeated keys into arrays in arrival order.
pub fn insert_multi(lua: &Lua, t: &Table, k: mlua::LuaString, v: Value) -> mlua::Result<()> {
    match t.raw_get::<Value>(&k)? {
        Value::Nil => t.raw_set(k, v),
        Value::Table(arr) => arr.raw_push(v),
        old => {
            let arr = lua.create_table_with_capacity(2, 0)?;
            arr.raw_push(old)?;
            arr.raw_push(v)?;
            t.raw_set(k, arr)
        }
    }
}

/// Build the table ngx.req.get_uri_args / ngx.decode_args return.
pub fn args_table(
    lua: &Lua,
    query: &[u8],
    max: usize,
    into: Option<Table>,
) -> mlua::Result<(Table, Option<&'static str>)> {
    let (pairs, truncated) = ngx_util::parse_args(query, max);
    let t = match into {
        Some(t) => t,
        None => lua.create_table_with_capacity(0, pairs.len())?,
    };
    for (k, v) in pairs {
        let v = match v {
            ngx_util::ArgValue::Bool(b) => Value::Boolean(b),
            ngx_util::ArgValue::Str(s) => Value::String(lua.create_string(&s)?),
        };
        insert_multi(lua, &t, lua.create_string(&k)?, v)?;
    }
    Ok((t, truncated.then_some("truncated")))
}

/// ngx.req.get_headers(max?, raw?): names lowercased unless raw, repeats as arrays.
unsafe extern "C-unwind" fn get_headers_c(l: State) -> c_int {
    let rq = match req() {
        Ok(r) => r,
        Err(e) => raw::raise(l, crate::lua::driver::error_message(&e)),
    };
    let max = match ffi::lua_type(l, 1) {
        ffi::LUA_TNUMBER => max_arg(Some(ffi::lua_tonumber(l, 1) as i64)),
        _ => 100,
    };
    let as_sent = ffi::lua_toboolean(l, 2) != 0;
    ffi::lua_settop(l, 0);
    ffi::lua_createtable(l, 0, rq.head.header_count().min(max) as c_int);
    let mut lower = [0u8; 64];
    let mut truncated = false;
    for (i, (n, v)) in rq.head.headers().enumerate() {
        if i >= max {
            truncated = true;
            break;
        }
        if as_sent || n.len() > lower.len() {
            if as_sent {
                raw::push_bytes(l, n);
            } else {
                raw::push_bytes(l, &n.to_ascii_lowercase());
            }
        } else {
            for (d, s) in lower.iter_mut().zip(n) {
                *d = s.to_ascii_lowercase();
            }
            raw::push_bytes(l, &lower[..n.len()]);
        }
        raw::push_bytes(l, v);
        raw::insert_multi(l, 1);
    }
    drop(rq);
    if truncated {
        raw::push_bytes(l, b"truncated");
        return 2;
    }
    1
}

fn max_arg(v: Option<i64>) -> usize {
    match v {
        None => 100,
        Some(n) if n <= 0 => usize::MAX,
        Some(n) => n as usize,
    }
}

pub fn register(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let r = lua.create_table()?;
    r.set(
        "get_method",
        lua.create_function(|lua, ()| {
            let rq = req()?;
            lua.create_string(rq.head.method())
        })?,
    )?;
    r.set(
        "get_uri_args",
        lua.create_function(|lua, (max, tab): (Option<i64>, Option<Table>)| {
            let rq = req()?;
            let args = rq.args.borrow().clone().unwrap_or_default();
            args_table(lua, &args, max_arg(max), tab)
        })?,
    )?;
    // SAFETY: follows the raw-function rule in lua/raw.rs.
    r.set("get_headers", unsafe {
        lua.create_c_function(get_headers_c)?
    })?;
    r.set(
        "http_version",
        lua.create_function(|_, ()| {
            let rq = req()?;
            Ok(match rq.head.version {
                11 => 1.1,
                10 => 1.0,
                _ => 0.9,
            })
        })?,
    )?;
    r.set("start_time", lua.create_function(|_, ()| Ok(req()?.start))?)?;
    r.set(
        "raw_header",
        lua.create_function(|lua, no_line: Option<bool>| {
            let rq = req()?;
            let raw = &rq.head.raw;
            if no_line.unwrap_or(false) {
                let start = memchr::memchr(b'\n', raw)
                    .map(|i| i + 1)
                    .unwrap_or(raw.len());
                lua.create_string(&raw[start..])
            } else {
                lua.create_string(raw)
            }
        })?,
    )?;
    r.set(
        "is_internal",
        lua.create_function(|_, ()| req().map(|_| false))?,
    )?;
    ngx.set("req", r)?;
    Ok(())
}
