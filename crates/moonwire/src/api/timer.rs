//! ngx.timer.at / every / running_count / pending_count (ngx_http_lua_timer.c).
//!
//! A timer is a local task on the worker: it sleeps, then runs the callback
//! as the entry thread of a new driver task (phase "timer", no request), so
//! the callback may sleep, use cosockets and spawn light threads. When the
//! worker exits (quit or reload), pending timers run at once with
//! `premature = true`.

use std::cell::Cell;
use std::ffi::c_int;
use std::time::Duration;

use mlua::{ffi, Lua, Table};

use crate::log::Level;
use crate::lua::driver::{self, Outcome, Task};
use crate::lua::raw::{self, State};
use crate::request::Phase;
use crate::worker::{self, Cmd};

thread_local! {
    static PENDING: Cell<usize> = const { Cell::new(0) };
    static RUNNING: Cell<usize> = const { Cell::new(0) };
}

struct Counter(&'static std::thread::LocalKey<Cell<usize>>);

impl Counter {
    fn new(k: &'static std::thread::LocalKey<Cell<usize>>) -> Counter {
        k.with(|c| c.set(c.get() + 1));
        Counter(k)
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.0.with(|c| c.set(c.get() - 1));
    }
}

/// Anchor the callback and its arguments (stack slots 2..=top) in the registry.
unsafe fn anchor(l: State) -> c_int {
    let n = ffi::lua_gettop(l);
    ffi::lua_createtable(l, n - 1, 0);
    for i in 2..=n {
        ffi::lua_pushvalue(l, i);
        ffi::lua_rawseti(l, -2, (i - 1) as ffi::lua_Integer);
    }
    ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX)
}

/// Run one expiry of timer `r` (callback and args anchored in the registry).
async fn fire(r: c_int, premature: bool) {
    let Some(w) = worker::current() else { return };
    let max = w
        .cfg
        .http
        .as_ref()
        .map(|h| h.lua.max_running_timers)
        .unwrap_or(256);
    if RUNNING.with(|c| c.get()) >= max {
        crate::log::log(
            Level::Alert,
            &format!("{max} lua_max_running_timers are not enough"),
        );
        return;
    }
    let vm = &w.vm;
    let _running = Counter::new(&RUNNING);
    let co = vm.co();
    // SAFETY: co is a fresh coroutine; we push the callback, `premature`, then the args.
    let nargs = unsafe {
        ffi::lua_settop(co.th, 0);
        ffi::lua_rawgeti(co.th, ffi::LUA_REGISTRYINDEX, r as ffi::lua_Integer);
        let n = ffi::lua_objlen(co.th, 1) as c_int;
        ffi::lua_checkstack(co.th, n + 2);
        ffi::lua_rawgeti(co.th, 1, 1);
        ffi::lua_pushboolean(co.th, premature as c_int);
        for i in 2..=n {
            ffi::lua_rawgeti(co.th, 1, i as ffi::lua_Integer);
        }
        ffi::lua_remove(co.th, 1);
        n
    };
    let task = Task::new(None, Phase::Timer);
    if let Outcome::Error(msg) = driver::run_task(vm, &task, co, nargs).await {
        crate::log::log(
            Level::Error,
            &format!("lua entry thread aborted: runtime error: {msg}\n, context: ngx.timer"),
        );
    }
}

fn release(r: c_int) {
    worker::with_vm(|vm| {
        // SAFETY: r is a registry reference made by `anchor` and released once.
        unsafe { ffi::luaL_unref(vm.main_state(), ffi::LUA_REGISTRYINDEX, r) }
    });
}

/// Sleep `d`, or less when the worker starts exiting; true when cut short.
async fn sleep_or_exit(d: Duration, cmd: &mut tokio::sync::watch::Receiver<Cmd>) -> bool {
    if *cmd.borrow() != Cmd::Run {
        return true;
    }
    if d.is_zero() {
        // a zero-delay timer runs as soon as the current handler yields
        tokio::task::yield_now().await;
        return false;
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = cmd.changed() => true,
    }
}

unsafe fn start(l: State, every: bool) -> Result<c_int, String> {
    let fname = if every { "every" } else { "at" };
    let delay = match ffi::lua_type(l, 1) {
        ffi::LUA_TNUMBER => ffi::lua_tonumber(l, 1),
        t => {
            return Err(format!(
                "bad argument #1 to '{fname}' (number expected, got {})",
                raw::type_name(t)
            ))
        }
    };
    if delay < 0.0 {
        return Err(format!("bad argument #1 to '{fname}' (negative delay)"));
    }
    if every && delay == 0.0 {
        return Err("delay cannot be zero".into());
    }
    if ffi::lua_type(l, 2) != ffi::LUA_TFUNCTION {
        return Err(format!(
            "bad argument #2 to '{fname}' (Lua function expected)"
        ));
    }
    let w = worker::current().ok_or("no worker")?;
    if worker::exiting() && (delay > 0.0 || every) {
        ffi::lua_pushnil(l);
        raw::push_bytes(l, b"process exiting");
        return Ok(2);
    }
    let max = w
        .cfg
        .http
        .as_ref()
        .map(|h| h.lua.max_pending_timers)
        .unwrap_or(1024);
    if PENDING.with(|p| p.get()) >= max {
        ffi::lua_pushnil(l);
        raw::push_bytes(l, b"too many pending timers");
        return Ok(2);
    }
    let r = anchor(l);
    let d = Duration::from_secs_f64(delay);
    let mut cmd = w.cmd.clone();
    let pending = Counter::new(&PENDING);
    let guard = worker::Active::new(&w, 0);
    drop(w);
    tokio::task::spawn_local(async move {
        let _guard = guard;
        let mut pending = Some(pending);
        loop {
            let premature = sleep_or_exit(d, &mut cmd).await;
            if !every {
                pending.take();
            }
            fire(r, premature).await;
            if !every || premature {
                break;
            }
        }
        drop(pending);
        release(r);
    });
    ffi::lua_pushinteger(l, 1);
    Ok(1)
}

unsafe extern "C-unwind" fn at_c(l: State) -> c_int {
    match start(l, false) {
        Ok(n) => n,
        Err(e) => raw::raise(l, e),
    }
}

unsafe extern "C-unwind" fn every_c(l: State) -> c_int {
    match start(l, true) {
        Ok(n) => n,
        Err(e) => raw::raise(l, e),
    }
}

pub fn register(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let t = lua.create_table()?;
    // SAFETY: both follow the raw-function rule in lua/raw.rs.
    unsafe {
        t.set("at", lua.create_c_function(at_c)?)?;
        t.set("every", lua.create_c_function(every_c)?)?;
    }
    t.set(
        "running_count",
        lua.create_function(|_, ()| Ok(RUNNING.with(|c| c.get())))?,
    )?;
    t.set(
        "pending_count",
        lua.create_function(|_, ()| Ok(PENDING.with(|c| c.get())))?,
    )?;
    ngx.set("timer", t)?;
    Ok(())
}
