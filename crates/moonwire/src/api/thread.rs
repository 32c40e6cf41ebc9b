//! ngx.thread.spawn / wait / kill (ngx_http_lua_uthread.c): light threads are
//! more coroutines of the same task, scheduled by the driver.

use std::ffi::c_int;

use mlua::{ffi, Lua, Table};

use super::{check_phase, YIELDABLE};
use crate::lua::driver::{current_task, set_pending, Pending};
use crate::lua::raw::{self, State};
use crate::worker;

unsafe fn spawn(l: State) -> Result<c_int, String> {
    check_phase(YIELDABLE).map_err(|e| crate::lua::driver::error_message(&e))?;
    let t = ffi::lua_type(l, 1);
    if t != ffi::LUA_TFUNCTION {
        return Err("bad argument #1 to 'spawn' (Lua function expected)".into());
    }
    let (task, _) = current_task().ok_or("no request found")?;
    let n = ffi::lua_gettop(l);
    let tid = worker::with_vm(|vm| task.spawn(vm, l, n - 1)).ok_or("no worker")?;
    let th = task.thread_state(tid);
    ffi::lua_pushthread(th);
    ffi::lua_xmove(th, l, 1);
    if task.exiting() {
        // the new thread called ngx.exit: the spawner must stop too
        ffi::lua_settop(l, 0);
        raw::push_yield(l);
    }
    Ok(1)
}

unsafe extern "C-unwind" fn spawn_c(l: State) -> c_int {
    match spawn(l) {
        Ok(n) => n,
        Err(e) => raw::raise(l, e),
    }
}

/// The light threads named by the arguments, checked like OpenResty does.
unsafe fn thread_args(
    l: State,
    fname: &str,
    me: usize,
    task: &crate::lua::driver::Task,
) -> Result<Vec<usize>, String> {
    let n = ffi::lua_gettop(l);
    if n == 0 {
        return Err("at least one coroutine should be specified".into());
    }
    let mut ids = Vec::with_capacity(n as usize);
    for i in 1..=n {
        let th = ffi::lua_tothread(l, i);
        if th.is_null() {
            return Err(format!(
                "bad argument #{i} to '{fname}' (coroutine expected, got {})",
                raw::type_name(ffi::lua_type(l, i))
            ));
        }
        let tid = task.thread_of(th).ok_or_else(|| {
            format!("attempt to {fname} on a coroutine that is not a user thread")
        })?;
        if task.parent_of(tid) != me {
            return Err(format!(
                "only the parent coroutine can {fname} on the thread"
            ));
        }
        ids.push(tid);
    }
    Ok(ids)
}

unsafe fn wait(l: State) -> Result<c_int, String> {
    check_phase(YIELDABLE).map_err(|e| crate::lua::driver::error_message(&e))?;
    let (task, me) = current_task().ok_or("no request found")?;
    let ids = thread_args(l, "wait", me, &task)?;
    if ids.iter().all(|&i| task.ended(i) && !task.is_zombie(i)) {
        ffi::lua_pushnil(l);
        raw::push_bytes(l, b"already waited or killed");
        return Ok(2);
    }
    let top = ffi::lua_gettop(l);
    match task.wait(me, ids, l) {
        Some(n) => Ok(n),
        None => {
            ffi::lua_settop(l, top);
            set_pending(Pending::Threads);
            raw::push_yield(l);
            Ok(1)
        }
    }
}

unsafe extern "C-unwind" fn wait_c(l: State) -> c_int {
    match wait(l) {
        Ok(n) => n,
        Err(e) => raw::raise(l, e),
    }
}

unsafe fn kill(l: State) -> Result<c_int, String> {
    check_phase(YIELDABLE).map_err(|e| crate::lua::driver::error_message(&e))?;
    let (task, me) = current_task().ok_or("no request found")?;
    let th = ffi::lua_tothread(l, 1);
    let fail = |l: State, msg: &[u8]| {
        ffi::lua_pushnil(l);
        raw::push_bytes(l, msg);
        Ok(2)
    };
    if th.is_null() {
        return Err(format!(
            "bad argument #1 to 'kill' (coroutine expected, got {})",
            raw::type_name(ffi::lua_type(l, 1))
        ));
    }
    let Some(tid) = task.thread_of(th) else {
        return fail(l, b"not user thread");
    };
    if task.parent_of(tid) != me {
        return fail(l, b"killer not parent");
    }
    if task.is_zombie(tid) {
        // its results are dropped: a later wait finds nothing
        worker::with_vm(|vm| task.kill(vm, tid));
        return fail(l, b"already terminated");
    }
    if task.ended(tid) {
        return fail(l, b"already waited or killed");
    }
    if task.in_subrequest(tid) {
        return fail(l, b"pending subrequests");
    }
    worker::with_vm(|vm| task.kill(vm, tid));
    ffi::lua_pushinteger(l, 1);
    Ok(1)
}

/// `coroutine.status` for light threads: "zombie" when finished but not
/// waited for, "running" while suspended in an API wait; nil otherwise.
unsafe extern "C-unwind" fn thread_status_c(l: State) -> c_int {
    let th = ffi::lua_tothread(l, 1);
    let st = match current_task() {
        Some((task, _)) if !th.is_null() => task.thread_of(th).map(|tid| task.status_of(tid)),
        _ => None,
    };
    match st.flatten() {
        Some(s) => raw::push_bytes(l, s.as_bytes()),
        None => ffi::lua_pushnil(l),
    }
    1
}

unsafe extern "C-unwind" fn kill_c(l: State) -> c_int {
    match kill(l) {
        Ok(n) => n,
        Err(e) => raw::raise(l, e),
    }
}

/// ngx.on_abort(f): run `f` as a light thread when the client goes away.
unsafe fn on_abort(l: State) -> Result<c_int, String> {
    use crate::request::Phase;
    check_phase(&[Phase::Rewrite, Phase::Access, Phase::Content])
        .map_err(|e| crate::lua::driver::error_message(&e))?;
    let t = ffi::lua_type(l, 1);
    if t != ffi::LUA_TFUNCTION {
        return Err(format!(
            "bad argument #1 to 'on_abort' (function expected, got {})",
            raw::type_name(t)
        ));
    }
    let (task, _) = current_task().ok_or("no request found")?;
    let enabled = task.req.as_ref().is_some_and(|r| r.loc.check_client_abort);
    if !enabled {
        ffi::lua_pushnil(l);
        raw::push_bytes(l, b"lua_check_client_abort is off");
        return Ok(2);
    }
    if task.on_abort.get().is_some() {
        ffi::lua_pushnil(l);
        raw::push_bytes(l, b"duplicate call");
        return Ok(2);
    }
    ffi::lua_settop(l, 1);
    task.on_abort
        .set(Some(ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX)));
    ffi::lua_pushinteger(l, 1);
    Ok(1)
}

unsafe extern "C-unwind" fn on_abort_c(l: State) -> c_int {
    match on_abort(l) {
        Ok(n) => n,
        Err(e) => raw::raise(l, e),
    }
}

pub fn register(lua: &Lua, ngx: &Table, c: &Table) -> mlua::Result<()> {
    // SAFETY: follows the raw-function rule in lua/raw.rs.
    ngx.set("on_abort", unsafe { lua.create_c_function(on_abort_c)? })?;
    let t = lua.create_table()?;
    // SAFETY: these follow the raw-function rule in lua/raw.rs.
    unsafe {
        c.set("thread_spawn", lua.create_c_function(spawn_c)?)?;
        c.set("thread_wait", lua.create_c_function(wait_c)?)?;
        t.set("kill", lua.create_c_function(kill_c)?)?;
        c.set("thread_status", lua.create_c_function(thread_status_c)?)?;
    }
    ngx.set("thread", t)?;
    Ok(())
}
