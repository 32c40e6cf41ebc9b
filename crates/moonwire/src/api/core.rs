//! What the `resty.core*` compat modules (modules.lua) need from Rust:
//! `resty.core.base.get_request` and `resty.core.time`'s monotonic clock.

use std::ffi::c_int;
use std::rc::Rc;

use mlua::{ffi, Lua, Table};

use crate::lua::driver;
use crate::lua::raw::State;

/// A non-nil handle while a request, timer or other task runs (OpenResty
/// gives timers and init_worker a fake request), nil in init_by_lua. It is
/// only good for truth tests: no FFI function of nginx's takes it here.
unsafe extern "C-unwind" fn get_request_c(l: State) -> c_int {
    let p = driver::with_current(|r| r.map(|r| Rc::as_ptr(r) as *mut std::ffi::c_void))
        .or_else(|| driver::current_task().map(|(t, _)| Rc::as_ptr(&t) as *mut std::ffi::c_void));
    match p {
        Some(p) => ffi::lua_pushlightuserdata(l, p),
        None => ffi::lua_pushnil(l),
    }
    1
}

fn monotonic_msec() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid out pointer; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

unsafe extern "C-unwind" fn monotonic_msec_c(l: State) -> c_int {
    ffi::lua_pushnumber(l, monotonic_msec() as f64);
    1
}

unsafe extern "C-unwind" fn monotonic_time_c(l: State) -> c_int {
    ffi::lua_pushnumber(l, monotonic_msec() as f64 / 1000.0);
    1
}

pub fn register(lua: &Lua, c: &Table) -> mlua::Result<()> {
    // SAFETY: each function follows the raw-function rule in lua/raw.rs.
    unsafe {
        c.set("core_get_request", lua.create_c_function(get_request_c)?)?;
        c.set(
            "core_monotonic_msec",
            lua.create_c_function(monotonic_msec_c)?,
        )?;
        c.set(
            "core_monotonic_time",
            lua.create_c_function(monotonic_time_c)?,
        )?;
    }
    Ok(())
}
