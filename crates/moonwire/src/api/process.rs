//! `require "ngx.process"` (lua-resty-core's module over the process
//! functions of ngx_http_lua_worker.c) and `ngx.worker.pids`.
//!
//! Workers are threads of one process here. The "master" is the main
//! thread, a worker's `ngx.worker.pid()` is its thread id, and the
//! privileged agent is one more worker thread that accepts no connections.

use std::ffi::c_int;
use std::sync::atomic::Ordering;
use std::sync::Mutex;

use mlua::{ffi, Lua, Table};

use super::phase;
use crate::lua::raw::{self, State};
use crate::request::Phase;
use crate::worker;

/// `enable_privileged_agent(connections)` called by init_by_lua, for the
/// server to act on when it starts the workers of this configuration.
static AGENT_REQUEST: Mutex<Option<u32>> = Mutex::new(None);

/// Ask for a privileged agent with the configuration being loaded.
pub fn request_agent(connections: u32) {
    if let Ok(mut g) = AGENT_REQUEST.lock() {
        *g = Some(connections);
    }
}

/// Whether the configuration just loaded asked for a privileged agent (and
/// with how many connections); clears the request.
pub fn take_agent_request() -> Option<u32> {
    AGENT_REQUEST.lock().ok()?.take()
}

fn master_process() -> bool {
    crate::config::MASTER_PROCESS.load(Ordering::Relaxed)
}

/// `ngx.process.type()`, as nginx names its process kinds.
pub fn process_type() -> &'static str {
    if phase() == Phase::Init {
        if master_process() {
            "master"
        } else {
            "single"
        }
    } else if worker::is_agent() {
        "privileged agent"
    } else if master_process() {
        "worker"
    } else {
        "single"
    }
}

unsafe extern "C-unwind" fn type_c(l: State) -> c_int {
    raw::push_bytes(l, process_type().as_bytes());
    1
}

unsafe extern "C-unwind" fn get_master_pid_c(l: State) -> c_int {
    ffi::lua_pushinteger(l, std::process::id() as ffi::lua_Integer);
    1
}

/// nginx's `ngx_quit = 1` in the calling process: with `master_process on`
/// this worker drains and is replaced by a fresh one (nginx's master
/// respawns it); a single process (`master_process off`) quits altogether.
unsafe extern "C-unwind" fn signal_graceful_exit_c(_l: State) -> c_int {
    if phase() == Phase::Init {
        return 0;
    }
    if master_process() {
        worker::quit_gracefully();
    } else {
        // SAFETY: signalling our own process; the main thread takes SIGQUIT with sigwait.
        libc::kill(libc::getpid(), libc::SIGQUIT);
    }
    0
}

unsafe extern "C-unwind" fn enable_privileged_agent_c(l: State) -> c_int {
    if phase() != Phase::Init {
        ffi::lua_pushnil(l);
        raw::push_bytes(l, b"API disabled in the current context");
        return 2;
    }
    let connections = match ffi::lua_type(l, 1) {
        ffi::LUA_TNIL | ffi::LUA_TNONE => 512.0,
        ffi::LUA_TNUMBER if ffi::lua_tonumber(l, 1) >= 0.0 => ffi::lua_tonumber(l, 1),
        _ => {
            ffi::lua_pushnil(l);
            raw::push_bytes(
                l,
                b"bad 'connections' argument: number expected and greater than 0",
            );
            return 2;
        }
    };
    // init_by_lua runs in every worker VM: worker 0's run asks, not the agent's own
    if worker::is_worker_thread() && !worker::is_agent() && worker::id() == 0 {
        request_agent(connections.min(u32::MAX as f64) as u32);
    }
    ffi::lua_pushboolean(l, 1);
    1
}

/// `ngx.worker.pids()`: the thread ids of all workers, in worker-id order.
unsafe extern "C-unwind" fn worker_pids_c(l: State) -> c_int {
    if matches!(phase(), Phase::Init | Phase::InitWorker) {
        ffi::lua_pushnil(l);
        raw::push_bytes(l, b"API disabled in the current context");
        return 2;
    }
    let pids = worker::pids();
    ffi::lua_createtable(l, pids.len() as c_int, 0);
    for (i, p) in pids.iter().enumerate() {
        ffi::lua_pushinteger(l, *p as ffi::lua_Integer);
        ffi::lua_rawseti(l, -2, i as ffi::lua_Integer + 1);
    }
    1
}

pub fn register(lua: &Lua, c: &Table) -> mlua::Result<()> {
    // SAFETY: each function follows the raw-function rule in lua/raw.rs.
    unsafe {
        c.set("process_type", lua.create_c_function(type_c)?)?;
        c.set(
            "process_get_master_pid",
            lua.create_c_function(get_master_pid_c)?,
        )?;
        c.set(
            "process_signal_graceful_exit",
            lua.create_c_function(signal_graceful_exit_c)?,
        )?;
        c.set(
            "process_enable_privileged_agent",
            lua.create_c_function(enable_privileged_agent_c)?,
        )?;
        let w: Table = c.get::<Table>("ngx")?.get("worker")?;
        w.set("pids", lua.create_c_function(worker_pids_c)?)?;
    }
    Ok(())
}
