//! header_filter_by_lua and body_filter_by_lua: the Lua stages of the output
//! path. A response without Lua filters never comes here.
//!
//! Filters run as tasks of their own phase, so they may yield (cosockets,
//! sleep). Output APIs called from Lua (ngx.say ...) run them through
//! [`now_or_later`]: almost always they finish at once; if one waits, the
//! calling coroutine yields until it is done.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{output, phases, LuaArg, Req};
use crate::log::Level;
use crate::lua::driver::Outcome;
use crate::lua::LoadError;
use crate::request::Phase;

/// Whether this request's output passes through Lua filters.
pub fn active(req: &Req) -> bool {
    let p = &req.loc.phases;
    p.header_filter.is_some() || p.body_filter.is_some()
}

pub type LocalFut = Pin<Box<dyn Future<Output = ()>>>;

/// Poll `f` once: `None` when it finished, else the rest of it.
pub fn now_or_later(mut f: LocalFut) -> Option<LocalFut> {
    let mut cx = Context::from_waker(Waker::noop());
    match f.as_mut().poll(&mut cx) {
        Poll::Ready(()) => None,
        Poll::Pending => Some(f),
    }
}

/// Run header_filter_by_lua once, right before the head is rendered.
pub async fn header_filter(req: &Rc<Req>) {
    let Some(chunk) = req.loc.phases.header_filter.clone() else {
        return;
    };
    if req.header_filtered.replace(true) || req.resp.borrow().headers_sent {
        return;
    }
    let Some(w) = crate::worker::current() else {
        return;
    };
    match phases::run_chunk(&w, req, &chunk, Phase::HeaderFilter).await {
        Ok(Outcome::Error(msg)) => {
            req.log(
                Level::Error,
                &format!("failed to run header_filter_by_lua*: {msg}"),
            );
            fail(req);
        }
        Ok(Outcome::Exit(code)) if code == -1 || code == 444 => fail(req),
        Err(LoadError::NotFound(msg) | LoadError::Other(msg)) => {
            req.log(Level::Error, &msg);
            fail(req);
        }
        _ => {}
    }
}

/// A failed filter: nginx closes the connection without a response.
fn fail(req: &Req) {
    let mut resp = req.resp.borrow_mut();
    resp.broken = true;
    resp.out.clear();
    resp.eof = true;
    resp.headers_sent = true;
}

/// Pass one piece of body through body_filter_by_lua.
async fn body_filter(req: &Rc<Req>, data: Vec<u8>, eof: bool) -> Option<(Vec<u8>, bool)> {
    let Some(chunk) = req.loc.phases.body_filter.clone() else {
        return Some((data, eof));
    };
    let w = crate::worker::current()?;
    *req.lua_arg.borrow_mut() = LuaArg::Body { data, eof };
    let outcome = phases::run_chunk(&w, req, &chunk, Phase::BodyFilter).await;
    let arg = std::mem::take(&mut *req.lua_arg.borrow_mut());
    match outcome {
        Ok(Outcome::Error(msg)) => {
            req.log(
                Level::Error,
                &format!("failed to run body_filter_by_lua*: {msg}"),
            );
            fail(req);
            return None;
        }
        Err(LoadError::NotFound(msg) | LoadError::Other(msg)) => {
            req.log(Level::Error, &msg);
            fail(req);
            return None;
        }
        Ok(Outcome::Exit(code)) if code == -1 || code == 444 => {
            fail(req);
            return None;
        }
        _ => {}
    }
    match arg {
        LuaArg::Body { data, eof } => Some((data, eof)),
        _ => Some((Vec::new(), eof)),
    }
}

/// Body bytes (and maybe the end) through the filters onto the wire buffer.
pub async fn emit(req: &Rc<Req>, data: Vec<u8>, eof: bool) {
    if req.body_filter_eof.get() || req.resp.borrow().eof {
        return;
    }
    let head_now = {
        let resp = req.resp.borrow();
        !resp.headers_sent && (eof || !output::holds_head(req, &resp))
    };
    if head_now {
        header_filter(req).await;
    }
    let Some((data, eof)) = body_filter(req, data, eof).await else {
        return;
    };
    if eof {
        req.body_filter_eof.set(true);
    }
    let mut resp = req.resp.borrow_mut();
    if resp.eof {
        return;
    }
    output::write_body(req, &mut resp, &data);
    if eof {
        output::finish(req, &mut resp);
    }
}

/// The head through header_filter_by_lua, then rendered (ngx.send_headers, ngx.flush).
pub async fn send_head(req: &Rc<Req>) {
    header_filter(req).await;
    let mut resp = req.resp.borrow_mut();
    output::send_headers(req, &mut resp);
}

/// ngx.arg for set_by_lua and body_filter_by_lua: `ngx.arg[i]`.
pub fn arg_get(req: &Req, i: i64) -> ArgValue {
    match &*req.lua_arg.borrow() {
        LuaArg::Set(v) => match usize::try_from(i - 1).ok().and_then(|i| v.get(i)) {
            Some(s) => ArgValue::Str(s.clone()),
            None => ArgValue::Nil,
        },
        LuaArg::Body { data, eof } => match i {
            1 => ArgValue::Str(data.clone()),
            2 => ArgValue::Bool(*eof),
            _ => ArgValue::Nil,
        },
        LuaArg::None => ArgValue::Nil,
    }
}

pub enum ArgValue {
    Nil,
    Str(Vec<u8>),
    Bool(bool),
}
