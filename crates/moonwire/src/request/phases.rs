//! nginx's phase engine for one request: server-rewrite, find-config,
//! rewrite, access, precontent, content; then (from the output path) the
//! header and body filters, and the log phase once the response is out.
//!
//! Every `*_by_lua` handler runs as its own driver task, so each may yield;
//! they share the request, its `ngx.ctx` and its variables.

use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;

use super::{filter, output, Req, Route};
use crate::config::{ChunkSrc, LocConf, LuaChunk, Return, ReturnBody, ScriptOp, Server};
use crate::log::Level;
use crate::lua::driver::{self, Outcome};
use crate::lua::LoadError;
use crate::request::{ExecTarget, LuaArg, Phase};
use crate::worker::Worker;

/// What a phase step decided.
enum Flow {
    /// Go on with the next phase.
    Next,
    /// The response is decided (finished, or an error/status page is set).
    Done,
    /// Start over at another location (ngx.exec, set_uri with jump).
    Redirect(ExecTarget, bool),
}

/// nginx gives up after this many internal redirects.
const MAX_REDIRECTS: u8 = 10;

/// The location config, alias prefix and regex captures for `uri` in `server`.
pub fn route(server: &Arc<Server>, uri: &Bytes) -> (Route, Vec<Option<Bytes>>) {
    let (location, spans) = server.locations.find_captures(uri);
    let captures = spans
        .into_iter()
        .map(|c| c.map(|(a, b)| uri.slice(a..b)))
        .collect();
    let (loc, alias_prefix): (Arc<LocConf>, Option<Box<str>>) = match &location {
        Some(l) => (l.conf.clone(), location_prefix(l)),
        None => (server.default_loc.clone(), None),
    };
    (
        Route {
            server: server.clone(),
            loc,
            alias_prefix,
        },
        captures,
    )
}

fn location_prefix(l: &crate::config::location::Location) -> Option<Box<str>> {
    use crate::config::LocationMatch::*;
    match &l.matcher {
        Prefix(p) | PrefixNoRegex(p) | Exact(p) => Some(p.clone().into_boxed_str()),
        _ => None,
    }
}

/// Run the request through every phase; returns the request that ended up
/// producing the response (a new one after internal redirects).
pub async fn run(w: &Rc<Worker>, mut req: Rc<Req>) -> Rc<Req> {
    let mut named = false;
    loop {
        match run_once(w, &req, named).await {
            Flow::Next | Flow::Done => return req,
            Flow::Redirect(target, keep_ctx) => {
                if req.redirects.get() >= MAX_REDIRECTS {
                    req.log(
                        Level::Error,
                        &format!(
                            "rewrite or internal redirection cycle while internally redirecting to \"{}\"",
                            String::from_utf8_lossy(&target.uri)
                        ),
                    );
                    respond_special(&req, 500);
                    return req;
                }
                named = target.uri.starts_with(b"@");
                let route = if named {
                    let name = String::from_utf8_lossy(&target.uri).into_owned();
                    match req.server.locations.named(&name) {
                        Some(l) => (
                            Route {
                                server: req.server.clone(),
                                loc: l.conf.clone(),
                                alias_prefix: None,
                            },
                            Vec::new(),
                        ),
                        None => {
                            req.log(
                                Level::Error,
                                &format!("could not find named location \"{name}\""),
                            );
                            respond_special(&req, 500);
                            return req;
                        }
                    }
                } else {
                    route(&req.server, &target.uri)
                };
                let id = if keep_ctx {
                    req.id
                } else {
                    if req.ctx_used.get() {
                        w.vm.end_request(req.id);
                    }
                    w.next_request_id()
                };
                // a named location keeps the request's URI and arguments
                let (uri, args) = if named {
                    (req.uri.borrow().clone(), req.args.borrow().clone())
                } else {
                    (target.uri, target.args)
                };
                let mut next = req.redirect(id, uri, args, route.0);
                next.captures = route.1;
                if keep_ctx {
                    next.env_ref.set(req.env_ref.replace(0));
                    next.ctx_used.set(req.ctx_used.get());
                    next.internal.set(req.internal.get());
                }
                req = Rc::new(next);
            }
        }
    }
}

/// Return from `run_once` unless the step says go on.
macro_rules! step {
    ($e:expr) => {
        match $e {
            Flow::Next => {}
            other => return other,
        }
    };
}

async fn run_once(w: &Rc<Worker>, req: &Rc<Req>, named: bool) -> Flow {
    if !named {
        // server-rewrite: the server's own `set`/`return`, then server_rewrite_by_lua
        let server_conf = &req.server.conf;
        if !server_conf.script.is_empty() {
            step!(script(w, req, &server_conf.script).await);
        }
        if let Some(c) = req.loc.phases.server_rewrite.clone() {
            step!(lua_step(w, req, &c, Phase::ServerRewrite).await);
        }
    }
    // find-config: `internal;` locations are not reachable from outside
    if req.loc.internal && !req.internal.get() {
        respond_special(req, 404);
        return Flow::Done;
    }
    // rewrite: the location's rewrite-module script, then rewrite_by_lua
    // (before it with rewrite_by_lua_no_postpone)
    let no_postpone = w
        .cfg
        .http
        .as_ref()
        .is_some_and(|h| h.lua.rewrite_no_postpone);
    let rewrite = req.loc.phases.rewrite.clone();
    if no_postpone {
        if let Some(c) = &rewrite {
            step!(lua_step(w, req, c, Phase::Rewrite).await);
        }
    }
    if !req.loc.script.is_empty() {
        let s = req.loc.script.clone();
        step!(script(w, req, &s).await);
    }
    if !no_postpone {
        if let Some(c) = &rewrite {
            step!(lua_step(w, req, c, Phase::Rewrite).await);
        }
    }
    if let Some(c) = req.loc.phases.access.clone() {
        step!(lua_step(w, req, &c, Phase::Access).await);
    }
    if let Some(c) = req.loc.phases.precontent.clone() {
        step!(lua_step(w, req, &c, Phase::Precontent).await);
    }
    // content
    if let Some(c) = req.loc.content.clone() {
        req.resp.borrow_mut().use_default_type = true;
        return match lua_run(w, req, &c, Phase::Content).await {
            Err(flow) => flow,
            Ok(o) => match take_exec(req) {
                Some(t) => Flow::Redirect(t, false),
                None => {
                    finalize(req, o);
                    Flow::Done
                }
            },
        };
    }
    super::static_file::serve(req).await;
    Flow::Done
}

fn take_exec(req: &Req) -> Option<ExecTarget> {
    req.exec.borrow_mut().take()
}

/// A rewrite/access/precontent handler: ngx.exit(ngx.OK) or returning goes on
/// to the next phase unless the response was already sent; any status ends
/// the request with it.
async fn lua_step(w: &Rc<Worker>, req: &Rc<Req>, chunk: &Arc<LuaChunk>, phase: Phase) -> Flow {
    let outcome = match lua_run(w, req, chunk, phase).await {
        Ok(o) => o,
        Err(flow) => return flow,
    };
    if let Some(t) = take_exec(req) {
        return Flow::Redirect(t, false);
    }
    if req.jump.replace(false) {
        let uri = req.uri.borrow().clone();
        let args = req.args.borrow().clone();
        return Flow::Redirect(ExecTarget { uri, args }, true);
    }
    match outcome {
        Outcome::Done | Outcome::Exit(0) => {
            let resp = req.resp.borrow();
            if resp.headers_sent || resp.eof || resp.deferred.is_some() {
                drop(resp);
                finalize(req, Outcome::Done);
                return Flow::Done;
            }
            Flow::Next
        }
        other => {
            finalize(req, other);
            Flow::Done
        }
    }
}

/// Compile (or fetch) and run a chunk as a task of `phase`; a chunk that
/// cannot be loaded answers 404 (missing file) or 500.
async fn lua_run(
    w: &Rc<Worker>,
    req: &Rc<Req>,
    chunk: &Arc<LuaChunk>,
    phase: Phase,
) -> Result<Outcome, Flow> {
    // lua_need_request_body: the body is in before the first Lua handler runs
    if req.loc.need_request_body && !req.subrequest {
        if let Err(status) = super::body::read_body(req).await {
            respond_special(req, status);
            return Err(Flow::Done);
        }
    }
    match run_chunk(w, req, chunk, phase).await {
        Ok(o) => Ok(o),
        Err(LoadError::NotFound(msg)) => {
            req.log(Level::Error, &msg);
            respond_special(req, 404);
            Err(Flow::Done)
        }
        Err(LoadError::Other(msg)) => {
            req.log(Level::Error, &msg);
            respond_special(req, 500);
            Err(Flow::Done)
        }
    }
}

/// Run one handler chunk for `req` in `phase` (shared with the filters and log).
pub async fn run_chunk(
    w: &Rc<Worker>,
    req: &Rc<Req>,
    chunk: &Arc<LuaChunk>,
    phase: Phase,
) -> Result<Outcome, LoadError> {
    // `*_by_lua_file html/$arg_f.lua`: the path is evaluated per request
    let path = match &chunk.src {
        ChunkSrc::File(p) if p.to_string_lossy().contains('$') => {
            let parts = crate::config::compile_vars(&p.to_string_lossy());
            Some(String::from_utf8_lossy(&super::vars::eval(req, &parts)).into_owned())
        }
        _ => None,
    };
    let (key, isolated) = w.vm.prepare(chunk, req.loc.globals, path.as_deref())?;
    let prev = req.phase.replace(phase);
    let o = driver::run_phase(&w.vm, Some(req.clone()), key, isolated, phase).await;
    req.phase.set(prev);
    w.vm.forget(chunk, key);
    Ok(o)
}

/// The rewrite module's instructions in order (`set`, `set_by_lua`, `return`).
async fn script(w: &Rc<Worker>, req: &Rc<Req>, ops: &[ScriptOp]) -> Flow {
    for op in ops {
        match op {
            ScriptOp::Set { var, value } => {
                let v = super::vars::eval(req, value);
                super::vars::set_user(req, var, Some(&v));
            }
            ScriptOp::SetLua { var, chunk, args } => {
                let args = args.iter().map(|a| super::vars::eval(req, a)).collect();
                *req.lua_arg.borrow_mut() = LuaArg::Set(args);
                let outcome = match run_chunk(w, req, chunk, Phase::Set).await {
                    Ok(o) => o,
                    Err(LoadError::NotFound(msg) | LoadError::Other(msg)) => {
                        req.log(Level::Error, &msg);
                        respond_special(req, 500);
                        return Flow::Done;
                    }
                };
                let arg = std::mem::take(&mut *req.lua_arg.borrow_mut());
                match outcome {
                    Outcome::Error(msg) => {
                        req.log(Level::Error, &format!("failed to run set_by_lua*: {msg}"));
                        respond_special(req, 500);
                        return Flow::Done;
                    }
                    _ => {
                        let v = match arg {
                            LuaArg::Set(mut v) if v.len() == 1 => v.pop().unwrap_or_default(),
                            _ => Vec::new(),
                        };
                        super::vars::set_user(req, var, Some(&v));
                    }
                }
            }
            ScriptOp::Return(ret) => {
                do_return(req, ret);
                return Flow::Done;
            }
        }
    }
    Flow::Next
}

fn respond_special(req: &Req, status: u16) {
    let mut resp = req.resp.borrow_mut();
    output::special_response(req, &mut resp, status);
}

/// nginx's absolute_redirect: `/path` becomes `http://host[:port]/path`
/// (host from the request, the port unless it is 80).
pub fn absolute_url(req: &Req, path: &[u8]) -> Vec<u8> {
    let mut u = b"http://".to_vec();
    u.extend_from_slice(&super::vars::host(req));
    let port = req.conn.local.port();
    if port != 80 {
        u.push(b':');
        crate::http::push_num(&mut u, port as u64);
    }
    u.extend_from_slice(path);
    u
}

fn do_return(req: &Req, ret: &Return) {
    let mut resp = req.resp.borrow_mut();
    match &ret.body {
        ReturnBody::None => {
            if ret.code == 444 {
                resp.broken = true;
                resp.eof = true;
                return;
            }
            output::special_response(req, &mut resp, ret.code)
        }
        ReturnBody::Url(parts) => {
            let url = super::vars::eval(req, parts);
            let url = if url.starts_with(b"/") {
                absolute_url(req, &url)
            } else {
                url
            };
            resp.headers.push(("Location".into(), url));
            output::special_response(req, &mut resp, ret.code);
        }
        ReturnBody::Text(parts) => {
            let text = super::vars::eval(req, parts);
            resp.status = ret.code;
            resp.content_type = Some(req.loc.default_type.as_bytes().to_vec());
            resp.content_length = Some(text.len() as u64);
            output::respond(req, &mut resp, &text);
        }
    }
}

/// What the end of a handler means for the response (ngx.exit rules).
fn finalize(req: &Req, outcome: Outcome) {
    let mut resp = req.resp.borrow_mut();
    match outcome {
        Outcome::Done => {}
        Outcome::Exit(code) => {
            if code == 444 || code == -1 {
                // ngx.ERROR / 444: drop the connection without a (further) response
                resp.broken = true;
                resp.out.clear();
                resp.deferred = None;
                resp.eof = true;
                return;
            }
            if code >= 300 && !resp.headers_sent {
                output::special_response(req, &mut resp, code as u16);
                return;
            }
            if code >= 300 && resp.headers_sent && code as u16 != resp.status {
                let sent = resp.status;
                drop(resp);
                req.log(Level::Error, &format!("attempt to set status {code} via ngx.exit after sending out the response status {sent}"));
                resp = req.resp.borrow_mut();
            }
            if (200..300).contains(&code) && !resp.headers_sent {
                resp.status = code as u16;
            }
        }
        Outcome::Error(msg) => {
            drop(resp);
            req.log(
                Level::Error,
                &format!("lua entry thread aborted: runtime error: {msg}"),
            );
            let mut resp = req.resp.borrow_mut();
            if resp.headers_sent {
                // too late for an error page: cut the response short
                resp.broken = true;
                resp.eof = true;
            } else {
                output::special_response(req, &mut resp, 500);
            }
        }
    }
}

/// After the phases: push what is left of the response through the filters.
pub async fn complete(req: &Rc<Req>) {
    let deferred = req.resp.borrow_mut().deferred.take();
    if let Some(body) = deferred {
        filter::header_filter(req).await;
        {
            let mut resp = req.resp.borrow_mut();
            output::send_headers(req, &mut resp);
        }
        filter::emit(req, body, true).await;
        return;
    }
    if !req.resp.borrow().eof {
        if filter::active(req) {
            filter::emit(req, Vec::new(), true).await;
        } else {
            let mut resp = req.resp.borrow_mut();
            output::finish(req, &mut resp);
        }
    }
}

/// log_by_lua, after the response went out.
pub async fn log_phase(w: &Rc<Worker>, req: &Rc<Req>) {
    let Some(chunk) = req.loc.phases.log.clone() else {
        return;
    };
    match run_chunk(w, req, &chunk, Phase::Log).await {
        Ok(Outcome::Error(msg)) => {
            req.log(Level::Error, &format!("failed to run log_by_lua*: {msg}"))
        }
        Err(LoadError::NotFound(msg) | LoadError::Other(msg)) => req.log(Level::Error, &msg),
        _ => {}
    }
}
