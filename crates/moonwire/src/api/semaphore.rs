//! `require "ngx.semaphore"` (lua-resty-core's ngx/semaphore.lua): counting
//! semaphores shared by the requests and timers of one worker.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::time::Duration;

use mlua::{AnyUserData, Lua, MultiValue, Table, UserData, Value};

use super::{check_phase, YIELDABLE};
use crate::lua::driver::{set_pending, Pending, Resumer};

#[derive(Default)]
pub struct Sema {
    resources: Cell<i64>,
    /// Waiters in arrival order; a timed-out waiter's receiver is gone and is skipped.
    waiters: RefCell<VecDeque<tokio::sync::oneshot::Sender<()>>>,
}

impl UserData for Sema {}

impl Sema {
    fn live_waiters(&self) -> i64 {
        self.waiters
            .borrow()
            .iter()
            .filter(|w| !w.is_closed())
            .count() as i64
    }

    fn post(&self, n: i64) {
        for _ in 0..n {
            let mut handed = false;
            while let Some(w) = self.waiters.borrow_mut().pop_front() {
                if w.send(()).is_ok() {
                    handed = true;
                    break;
                }
            }
            if !handed {
                self.resources.set(self.resources.get() + 1);
            }
        }
    }
}

fn sema(ud: &AnyUserData) -> mlua::Result<mlua::UserDataRef<Sema>> {
    ud.borrow::<Sema>()
}

pub fn register(lua: &Lua, c: &Table) -> mlua::Result<()> {
    c.set(
        "sem_new",
        lua.create_function(|lua, n: Option<i64>| {
            let n = n.unwrap_or(0);
            if n < 0 {
                return Err(super::lua_err(lua, 2, "no negative number"));
            }
            let s = Sema::default();
            s.resources.set(n);
            lua.create_userdata(s)
        })?,
    )?;
    c.set(
        "sem_post",
        lua.create_function(|lua, (ud, n): (AnyUserData, Option<i64>)| {
            let n = n.unwrap_or(1);
            if n < 1 {
                return Err(super::lua_err(lua, 2, "positive number required"));
            }
            sema(&ud)?.post(n);
            Ok(true)
        })?,
    )?;
    c.set(
        "sem_count",
        lua.create_function(|_, ud: AnyUserData| {
            let s = sema(&ud)?;
            // resty.core reports waiters as a negative count
            let waiting = s.live_waiters();
            Ok(if waiting > 0 {
                -waiting
            } else {
                s.resources.get()
            })
        })?,
    )?;
    c.set(
        "sem_wait",
        lua.create_function(|lua, (ud, timeout): (AnyUserData, Option<f64>)| {
            let s = sema(&ud)?;
            if s.resources.get() > 0 {
                s.resources.set(s.resources.get() - 1);
                return Ok((Value::Boolean(true), None));
            }
            let timeout = timeout.unwrap_or(0.0);
            if timeout < 0.0 {
                return Err(super::lua_err(
                    lua,
                    2,
                    "bad argument #2 to 'wait' (expecting a non-negative number)",
                ));
            }
            if timeout == 0.0 {
                return Ok((Value::Nil, Some("timeout".to_string())));
            }
            // lua-resty-core returns the phase error instead of raising it
            if let Err(e) = check_phase(YIELDABLE) {
                return Ok((Value::Nil, Some(crate::lua::driver::error_message(&e))));
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            s.waiters.borrow_mut().push_back(tx);
            set_pending(Pending::Wait(Box::pin(async move {
                let got = tokio::time::timeout(Duration::from_secs_f64(timeout), rx).await;
                let r: Resumer = Box::new(move |lua| {
                    let mut mv = MultiValue::new();
                    match got {
                        Ok(Ok(())) => mv.push_back(Value::Boolean(true)),
                        _ => {
                            mv.push_back(Value::Nil);
                            mv.push_back(Value::String(lua.create_string("timeout")?));
                        }
                    }
                    Ok(mv)
                });
                r
            })));
            Ok((crate::lua::yield_marker(), None))
        })?,
    )?;
    Ok(())
}
