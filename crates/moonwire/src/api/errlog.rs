//! `require "ngx.errlog"` (lua-resty-core's module over ngx_http_lua_log.c's
//! FFI functions): raw_log, get_sys_filter_level, and the
//! `lua_capture_error_log` ring (set_filter_level, get_logs). The module
//! table itself is built in modules.lua.

use std::ffi::c_int;

use mlua::{ffi, Lua, Table};

use crate::log::{self, capture, Level};
use crate::lua::driver;
use crate::lua::raw::{self, State};

const NOT_SET: &[u8] = b"directive \"lua_capture_error_log\" is not set";

/// Push `nil, msg` and return the count.
unsafe fn nil_err(l: State, msg: &[u8]) -> c_int {
    ffi::lua_pushnil(l);
    raw::push_bytes(l, msg);
    2
}

/// `raw_log(level, msg)`: `msg` as is, without the `[lua] file:line:` prefix
/// that ngx.log adds, in the current request's log context.
unsafe fn raw_log(l: State) -> Result<(), String> {
    if ffi::lua_type(l, 1) != ffi::LUA_TNUMBER {
        return Err("bad argument #1 to 'raw_log' (must be a number)".into());
    }
    if ffi::lua_type(l, 2) != ffi::LUA_TSTRING {
        return Err("bad argument #2 to 'raw_log' (must be a string)".into());
    }
    // the level goes through a C int in OpenResty: 4.5 is 4
    let Some(level) = Level::from_ngx(ffi::lua_tonumber(l, 1) as i64) else {
        return Err("bad log level".into());
    };
    let msg = String::from_utf8_lossy(raw::to_bytes(l, 2));
    super::log::emit(level, &msg);
    Ok(())
}

unsafe extern "C-unwind" fn raw_log_c(l: State) -> c_int {
    match raw_log(l) {
        Ok(()) => 0,
        Err(msg) => raw::raise(l, msg),
    }
}

/// The level of the error log the current request (or the process) writes to.
pub fn sys_level() -> Level {
    driver::with_current(|r| r.and_then(|r| r.error_sink()).map(|s| s.level))
        .or_else(|| log::main_sink().map(|s| s.level))
        .or_else(|| {
            let l = crate::config::MAIN_LOG_LEVEL.load(std::sync::atomic::Ordering::Relaxed);
            Level::from_ngx(l.into())
        })
        .unwrap_or(Level::Error)
}

unsafe extern "C-unwind" fn get_sys_filter_level_c(l: State) -> c_int {
    ffi::lua_pushinteger(l, sys_level() as ffi::lua_Integer);
    1
}

unsafe extern "C-unwind" fn set_filter_level_c(l: State) -> c_int {
    let t = ffi::lua_type(l, 1);
    if t == ffi::LUA_TNIL
        || t == ffi::LUA_TNONE
        || (t == ffi::LUA_TBOOLEAN && ffi::lua_toboolean(l, 1) == 0)
    {
        return nil_err(l, b"missing \"level\" argument");
    }
    if t != ffi::LUA_TNUMBER {
        raw::raise(
            l,
            format!(
                "bad argument #1 to 'set_filter_level' (number expected, got {})",
                raw::type_name(t)
            ),
        );
    }
    if !capture::enabled() {
        return nil_err(l, NOT_SET);
    }
    let n = ffi::lua_tonumber(l, 1) as i64;
    let Some(level) = Level::from_ngx(n) else {
        let msg = format!("bad log level: {n}");
        let r = nil_err(l, msg.as_bytes());
        drop(msg);
        return r;
    };
    if !capture::set_filter(level) {
        return nil_err(l, NOT_SET);
    }
    ffi::lua_pushboolean(l, 1);
    1
}

/// `get_logs(max?, logs?)`: up to `max` (10) of the oldest captured lines,
/// consumed, as `level, time, msg` triples in `logs` (or a new table),
/// followed by a nil so a reused table ends there.
unsafe fn get_logs(l: State) -> Result<c_int, String> {
    let max = match ffi::lua_type(l, 1) {
        ffi::LUA_TNIL | ffi::LUA_TNONE => 10.0,
        ffi::LUA_TNUMBER => ffi::lua_tonumber(l, 1).floor(),
        t => {
            return Err(format!(
                "bad argument #1 to 'get_logs' (number expected, got {})",
                raw::type_name(t)
            ))
        }
    };
    let given = match ffi::lua_type(l, 2) {
        ffi::LUA_TNIL | ffi::LUA_TNONE => false,
        ffi::LUA_TTABLE => true,
        t => {
            return Err(format!(
                "bad argument #2 to 'get_logs' (table expected, got {})",
                raw::type_name(t)
            ))
        }
    };
    // as lua-resty-core's loop: nothing is read (nor checked) for max < 1
    let entries = if max >= 1.0 {
        match capture::take(max.min(usize::MAX as f64) as usize) {
            Some(e) => e,
            None => return Ok(nil_err(l, NOT_SET)),
        }
    } else {
        Vec::new()
    };
    if given {
        ffi::lua_pushvalue(l, 2);
    } else {
        ffi::lua_createtable(
            l,
            (entries.len() * 3 + 1).min(c_int::MAX as usize) as c_int,
            0,
        );
    }
    let t = ffi::lua_gettop(l);
    if max < 1.0 {
        return Ok(1);
    }
    let mut i: ffi::lua_Integer = 0;
    for e in &entries {
        ffi::lua_pushinteger(l, e.level as ffi::lua_Integer);
        ffi::lua_rawseti(l, t, i + 1);
        ffi::lua_pushnumber(l, e.time);
        ffi::lua_rawseti(l, t, i + 2);
        raw::push_bytes(l, &e.msg);
        ffi::lua_rawseti(l, t, i + 3);
        i += 3;
    }
    ffi::lua_pushnil(l);
    ffi::lua_rawseti(l, t, i + 1);
    Ok(1)
}

unsafe extern "C-unwind" fn get_logs_c(l: State) -> c_int {
    match get_logs(l) {
        Ok(n) => n,
        Err(msg) => raw::raise(l, msg),
    }
}

pub fn register(lua: &Lua, c: &Table) -> mlua::Result<()> {
    // SAFETY: each function follows the raw-function rule in lua/raw.rs.
    unsafe {
        c.set("errlog_raw_log", lua.create_c_function(raw_log_c)?)?;
        c.set(
            "errlog_get_sys_filter_level",
            lua.create_c_function(get_sys_filter_level_c)?,
        )?;
        c.set(
            "errlog_set_filter_level",
            lua.create_c_function(set_filter_level_c)?,
        )?;
        c.set("errlog_get_logs", lua.create_c_function(get_logs_c)?)?;
    }
    Ok(())
}
