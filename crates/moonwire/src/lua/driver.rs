//! The coroutine driver: resume a request's coroutine; when an API call
//! yields (sleep, socket I/O ...), await the future it registered and resume
//! the coroutine with the result.
//!
//! While a coroutine is suspended Rust holds only an integer key for it (see
//! [`Vm::park`]); the future's output is a closure that builds the Lua
//! values only after the wait, so no mlua handle lives across an `.await`.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use std::ffi::c_int;

use mlua::{ffi, Lua, MultiValue};

use super::raw::{self, State};
use super::{Co, Vm};
use crate::request::Req;

/// Builds the values the suspended coroutine is resumed with.
pub type Resumer = Box<dyn FnOnce(&Lua) -> mlua::Result<MultiValue>>;
pub type WaitFuture = Pin<Box<dyn Future<Output = Resumer>>>;

pub enum Pending {
    /// Await the future, then resume with its values.
    Wait(WaitFuture),
    /// `ngx.exit(code)`: stop running Lua for this request.
    Exit(i64),
}

thread_local! {
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
    static CURRENT: RefCell<Option<Rc<Req>>> = const { RefCell::new(None) };
}

/// Register what the coroutine is about to yield for.
pub fn set_pending(p: Pending) {
    PENDING.with(|s| *s.borrow_mut() = Some(p));
}

fn take_pending() -> Option<Pending> {
    PENDING.with(|s| s.borrow_mut().take())
}

/// The request whose Lua code is running on this worker right now.
pub fn current() -> Option<Rc<Req>> {
    CURRENT.with(|c| c.borrow().clone())
}

pub fn with_current<R>(f: impl FnOnce(Option<&Rc<Req>>) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().as_ref()))
}

/// Makes `req` current for the duration of a resume.
pub struct CurrentGuard(Option<Rc<Req>>);

impl CurrentGuard {
    pub fn set(req: Option<Rc<Req>>) -> CurrentGuard {
        CurrentGuard(CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), req)))
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        let prev = self.0.take();
        CURRENT.with(|c| *c.borrow_mut() = prev);
    }
}

pub enum Outcome {
    /// The handler returned.
    Done,
    /// `ngx.exit(code)`.
    Exit(i64),
    /// A Lua error, formatted for the error log (message and traceback).
    Error(String),
}

/// Resume `c` with `nargs` values already pushed; returns the Lua status.
///
/// # Safety
/// `c` is suspended or freshly prepared, with its arguments on its stack.
unsafe fn resume(c: Co, nargs: c_int) -> c_int {
    ffi::lua_resume_(c.th, nargs)
}

/// Push the values a resumer built, through the VM's transfer table.
fn push_values(vm: &Vm, c: Co, vals: MultiValue) -> mlua::Result<c_int> {
    let n = vals.len();
    for (i, v) in vals.into_iter().enumerate() {
        vm.xfer.raw_set(i + 1, v)?;
    }
    // SAFETY: c is suspended; we push the transfer table, its n values, then remove the table.
    unsafe {
        ffi::lua_settop(c.th, 0);
        if n == 0 {
            return Ok(0);
        }
        if ffi::lua_checkstack(c.th, n as c_int + 2) == 0 {
            return Err(mlua::Error::runtime("too many values to resume with"));
        }
        ffi::lua_rawgeti(
            c.th,
            ffi::LUA_REGISTRYINDEX,
            vm.xfer_ref as ffi::lua_Integer,
        );
        for i in 1..=n {
            ffi::lua_rawgeti(c.th, 1, i as ffi::lua_Integer);
            ffi::lua_pushnil(c.th);
            ffi::lua_rawseti(c.th, 1, i as ffi::lua_Integer);
        }
        ffi::lua_remove(c.th, 1);
    }
    Ok(n as c_int)
}

/// Run handler `key` (see `Vm::prepare`) as the request's coroutine until it
/// finishes, exits or fails.
pub async fn run(vm: &Vm, req: Option<Rc<Req>>, key: i64, isolated: bool) -> Outcome {
    let c = vm.co();
    let _ = take_pending();
    let mut status = {
        let _g = CurrentGuard::set(req.clone());
        // SAFETY: c comes from vm.co() and is not running.
        unsafe {
            vm.push_entry(c, key, isolated);
            resume(c, 2)
        }
    };
    loop {
        match status {
            0 => {
                vm.recycle(c);
                return Outcome::Done;
            }
            ffi::LUA_YIELD => {}
            _ => {
                // SAFETY: the failed coroutine's stack still holds the error and its frames.
                let msg = unsafe { failure(vm.main_state(), c.th) };
                vm.release(c);
                return Outcome::Error(msg);
            }
        }
        let nargs = match take_pending() {
            Some(Pending::Exit(code)) => {
                vm.release(c);
                return Outcome::Exit(code);
            }
            Some(Pending::Wait(fut)) => {
                let resumer = fut.await;
                match resumer(&vm.lua).and_then(|vals| push_values(vm, c, vals)) {
                    Ok(n) => n,
                    Err(e) => {
                        vm.release(c);
                        return Outcome::Error(format_error(&e));
                    }
                }
            }
            None => {
                // a bare coroutine.yield() in the entry thread: let others run, then go on
                tokio::task::yield_now().await;
                // SAFETY: c is suspended; drop what it yielded.
                unsafe { ffi::lua_settop(c.th, 0) };
                0
            }
        };
        let _g = CurrentGuard::set(req.clone());
        // SAFETY: c is suspended with `nargs` values pushed.
        status = unsafe { resume(c, nargs) };
    }
}

/// The error message of a failed coroutine plus OpenResty's traceback format.
///
/// # Safety
/// `th` is a coroutine whose last resume failed.
unsafe fn failure(main: State, th: State) -> String {
    // a dead coroutine cannot run metamethods: inspect the error object on the main state
    ffi::lua_xmove(th, main, 1);
    let msg = match ffi::lua_type(main, -1) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
            String::from_utf8_lossy(raw::to_bytes(main, -1)).into_owned()
        }
        // errors raised by mlua callbacks are userdata that render themselves
        ffi::LUA_TUSERDATA if ffi::luaL_getmetafield(main, -1, c"__tostring".as_ptr()) != 0 => {
            ffi::lua_pop(main, 1);
            let s = ffi::luaL_tolstring(main, -1, std::ptr::null_mut());
            let m = std::ffi::CStr::from_ptr(s).to_string_lossy().into_owned();
            ffi::lua_pop(main, 1);
            // mlua renders "runtime error: <msg>\n<its own traceback>": keep the message
            let m = m
                .split("\nstack traceback:")
                .next()
                .unwrap_or(&m)
                .trim_end()
                .to_string();
            m.strip_prefix("runtime error: ")
                .map(str::to_string)
                .unwrap_or(m)
        }
        // lua_tostring gives NULL for other values: OpenResty says "unknown reason"
        _ => "unknown reason".to_string(),
    };
    ffi::lua_pop(main, 1);
    format!("{msg}\n{}", traceback(th))
}

/// `stack traceback:\ncoroutine 0:\n\t...` like ngx_http_lua_thread_traceback.
///
/// # Safety
/// `th` is a valid coroutine state that is not running.
pub unsafe fn traceback(th: State) -> String {
    let mut out = String::from("stack traceback:\ncoroutine 0:");
    let mut frames = Vec::new();
    let mut level = 0;
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    while ffi::lua_getstack(th, level, &mut ar) == 1 && level < 22 {
        ffi::lua_getinfo(th, c"Snl".as_ptr(), &mut ar);
        let cs = |p: *const std::ffi::c_char| {
            if p.is_null() {
                String::new()
            } else {
                std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        let short = std::ffi::CStr::from_ptr(ar.short_src.as_ptr())
            .to_string_lossy()
            .into_owned();
        frames.push((
            short,
            ar.currentline,
            cs(ar.namewhat),
            cs(ar.name),
            cs(ar.what),
            ar.linedefined,
        ));
        level += 1;
    }
    let last = frames.len().saturating_sub(1);
    for (i, (short, line, namewhat, name, what, defined)) in frames.into_iter().enumerate() {
        out.push_str("\n\t");
        out.push_str(&short);
        out.push(':');
        if line > 0 {
            out.push_str(&format!("{line}:"));
        }
        if !namewhat.is_empty() {
            out.push_str(&format!(" in function '{name}'"));
        } else if what == "main" || (i == last && what == "Lua") {
            // the handler, tail-called by the entry trampoline, is the chunk's main body
            out.push_str(" in main chunk");
        } else if what == "C" || what == "tail" {
            out.push_str(" ?");
        } else {
            out.push_str(&format!(" in function <{short}:{defined}>"));
        }
    }
    out
}

/// Render a Lua error as OpenResty logs it: the message, then the traceback.
pub fn format_error(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, traceback } => {
            let mut root = cause.as_ref();
            while let mlua::Error::CallbackError { cause, .. } = root {
                root = cause.as_ref();
            }
            format!("{}\n{}", error_message(root), traceback)
        }
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The message of an error without mlua's decorations.
pub fn error_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::CallbackError { cause, .. } => error_message(cause),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::ExternalError(x) => x.to_string(),
        other => other.to_string(),
    }
}
