//! The Lua side of extension functions: every function is one raw
//! `lua_CFunction` closure whose upvalue points at its (process-lifetime)
//! definition, so a call costs no mlua callback machinery. A function that
//! waits registers its future with the driver and yields from C.

use std::ffi::c_int;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;

use mlua::{ffi, Lua, MultiValue};
use tokio::sync::oneshot::error::TryRecvError;

use super::value::{self, ReadError};
use super::{Args, Completion, Error, Func, Kind, Module, Outcome, Value, STATS};
use crate::lua::driver::{self, Pending, Resumer};
use crate::lua::raw::{self, State};

extern "C-unwind" {
    // LuaJIT 2.1 (OpenResty's branch, which mlua vendors) has it; mlua-sys does not declare it.
    fn lua_isyieldable(l: State) -> c_int;
}

/// What `nil, err` says when a completion is dropped without being fired.
const DROPPED: &str = "completion dropped";

pub(super) fn install(lua: &Lua, mods: &'static [Module]) -> mlua::Result<()> {
    let preload: mlua::Table = lua
        .globals()
        .get::<mlua::Table>("package")?
        .get("preload")?;
    for m in mods {
        if preload.contains_key(m.name.as_str())? {
            return Err(mlua::Error::runtime(format!(
                "extension module \"{}\" clashes with a built-in module",
                m.name
            )));
        }
    }
    // SAFETY: exec_raw runs this in protected mode on a state with room for
    // 3 values; each push is balanced (the loader is left as the result).
    unsafe {
        lua.exec_raw::<()>((), |l| {
            ffi::lua_getfield(l, ffi::LUA_GLOBALSINDEX, c"package".as_ptr());
            ffi::lua_getfield(l, -1, c"preload".as_ptr());
            for m in mods {
                ffi::lua_createtable(l, 0, m.funcs.len() as c_int);
                for f in &m.funcs {
                    raw::push_bytes(l, f.name.as_bytes());
                    ffi::lua_pushlightuserdata(l, f as *const Func as *mut std::ffi::c_void);
                    ffi::lua_pushcclosure(l, call_c, 1);
                    ffi::lua_rawset(l, -3);
                }
                // preload[name] = function() return <table> end
                ffi::lua_pushcclosure(l, loader_c, 1);
                raw::push_bytes(l, m.name.as_bytes());
                ffi::lua_insert(l, -2);
                ffi::lua_rawset(l, -3);
            }
            ffi::lua_settop(l, 0);
        })
    }
}

unsafe extern "C-unwind" fn loader_c(l: State) -> c_int {
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    1
}

unsafe extern "C-unwind" fn call_c(l: State) -> c_int {
    // SAFETY: the upvalue is the address of a Func in the process-lifetime registry.
    let f = &*(ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *const Func);
    match call(l, f) {
        Ok(Some(n)) => n,
        Ok(None) => {
            // the wrappers of user coroutines recognise API waits by this marker
            ffi::lua_settop(l, 0);
            raw::push_yield(l);
            ffi::lua_yield(l, 1)
        }
        Err(msg) => raw::raise(l, msg),
    }
}

/// `Some(n)`: n results are on the stack; `None`: a wait was registered, yield.
unsafe fn call(l: State, f: &'static Func) -> Result<Option<c_int>, String> {
    let n = ffi::lua_gettop(l);
    let mut vals = Vec::with_capacity(n as usize);
    for i in 1..=n {
        let v = value::read(l, i, 0).map_err(|e| {
            let why = match (e, ffi::lua_type(l, i) == ffi::LUA_TTABLE) {
                (ReadError::Deep, _) => "table nested too deep".to_string(),
                (ReadError::Type(t), true) => format!("bad data type {t} found"),
                (ReadError::Type(t), false) => {
                    format!("nil, boolean, number, string or table expected, got {t}")
                }
            };
            format!("bad argument #{i} to '{}' ({why})", f.name)
        })?;
        vals.push(v);
    }
    let args = Args::new(f.name, vals);
    let panicked = || format!("extension function '{}' panicked", f.name);
    match &f.kind {
        Kind::Sync(g) => {
            let r = catch_unwind(AssertUnwindSafe(|| g(args))).map_err(|_| panicked())?;
            finish(l, r)
        }
        Kind::Async(g) => {
            can_wait(l)?;
            match catch_unwind(AssertUnwindSafe(|| g(args))).map_err(|_| panicked())? {
                Ok(fut) => {
                    wait(f, fut);
                    Ok(None)
                }
                Err(e) => finish(l, Err(e)),
            }
        }
        Kind::Callback(g) => {
            can_wait(l)?;
            let (c, mut rx) = Completion::pair();
            if let Err(e) = catch_unwind(AssertUnwindSafe(|| g(args, c))).map_err(|_| panicked())? {
                return finish(l, Err(e));
            }
            // fired (or dropped) before returning: no need to wait
            match rx.try_recv() {
                Ok(r) => finish(l, r.map_err(Error::Fail)),
                Err(TryRecvError::Closed) => finish(l, Err(Error::fail(DROPPED))),
                Err(TryRecvError::Empty) => {
                    wait(f, async move {
                        rx.await.unwrap_or_else(|_| Err(DROPPED.into()))
                    });
                    Ok(None)
                }
            }
        }
    }
}

/// Waiting needs a yieldable phase and a coroutine that can yield here.
unsafe fn can_wait(l: State) -> Result<(), String> {
    crate::api::check_phase(crate::api::YIELDABLE).map_err(|e| driver::error_message(&e))?;
    if lua_isyieldable(l) == 0 {
        return Err("attempt to yield across C-call boundary".into());
    }
    Ok(())
}

/// Push a result: the values, or `nil, msg`; a raise becomes `Err`.
unsafe fn finish(l: State, r: super::Result<Vec<Value>>) -> Result<Option<c_int>, String> {
    let vals = match r {
        Ok(v) => v,
        Err(Error::Fail(m)) => vec![Value::Nil, m.into()],
        Err(Error::Raise(m)) => return Err(m),
    };
    for v in &vals {
        value::push(l, v)?;
    }
    Ok(Some(vals.len() as c_int))
}

/// Counts a call while it waits; a wait dropped before its end was cancelled.
struct Waiting {
    done: bool,
}

impl Waiting {
    fn new() -> Waiting {
        STATS.pending.fetch_add(1, Ordering::Relaxed);
        Waiting { done: false }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        STATS.pending.fetch_sub(1, Ordering::Relaxed);
        if !self.done {
            STATS.cancelled.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Make the calling coroutine wait for `fut` (bounded by the function's timeout).
fn wait(f: &'static Func, fut: impl Future<Output = Outcome> + 'static) {
    let timeout = f.timeout;
    let mut waiting = Waiting::new();
    driver::set_pending(Pending::Wait(Box::pin(async move {
        let r = match timeout {
            Some(d) => tokio::time::timeout(d, fut).await.unwrap_or_else(|_| {
                STATS.timed_out.fetch_add(1, Ordering::Relaxed);
                Err("timeout".into())
            }),
            None => fut.await,
        };
        waiting.done = true;
        drop(waiting);
        resumer(r)
    })));
}

fn resumer(r: Outcome) -> Resumer {
    Box::new(move |lua: &Lua| {
        let vals = match r {
            Ok(v) => v,
            Err(m) => vec![Value::Nil, m.into()],
        };
        // SAFETY: exec_raw runs this in protected mode; `push` checks the stack.
        unsafe {
            lua.exec_raw::<MultiValue>((), |l| {
                for v in &vals {
                    if value::push(l, v).is_err() {
                        break;
                    }
                }
            })
        }
    })
}
