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

use mlua::thread::ThreadStatus;
use mlua::{Function, Lua, MultiValue, Table};

use super::Vm;
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

/// Run `f` (started through the entry trampoline with `mt`) as the request's
/// coroutine until it finishes, exits or fails.
pub async fn run(vm: &Vm, req: Option<Rc<Req>>, f: Function, mt: Option<Table>) -> Outcome {
    let mut co = match vm.thread() {
        Ok(t) => t,
        Err(e) => return Outcome::Error(format_error(&e)),
    };
    let _ = take_pending();
    let mut res = {
        let _g = CurrentGuard::set(req.clone());
        co.resume::<MultiValue>((f, mt))
    };
    loop {
        if let Err(e) = res {
            return Outcome::Error(format_error(&e));
        }
        if co.status() != ThreadStatus::Resumable {
            vm.recycle(co);
            return Outcome::Done;
        }
        match take_pending() {
            Some(Pending::Exit(code)) => return Outcome::Exit(code),
            Some(Pending::Wait(fut)) => {
                let key = match vm.park(co) {
                    Ok(k) => k,
                    Err(e) => return Outcome::Error(format_error(&e)),
                };
                let resumer = fut.await;
                co = match vm.unpark(key) {
                    Ok(t) => t,
                    Err(e) => return Outcome::Error(format_error(&e)),
                };
                let _g = CurrentGuard::set(req.clone());
                res = match resumer(&vm.lua) {
                    Ok(args) => co.resume::<MultiValue>(args),
                    Err(e) => Err(e),
                };
            }
            None => {
                // a bare coroutine.yield() in the entry thread: let others run, then go on
                let key = match vm.park(co) {
                    Ok(k) => k,
                    Err(e) => return Outcome::Error(format_error(&e)),
                };
                tokio::task::yield_now().await;
                co = match vm.unpark(key) {
                    Ok(t) => t,
                    Err(e) => return Outcome::Error(format_error(&e)),
                };
                let _g = CurrentGuard::set(req.clone());
                res = co.resume::<MultiValue>(());
            }
        }
    }
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
