//! From a parsed head to a written response: virtual server, location,
//! body, handler (return / Lua / static file), access log.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::output;
use super::{ConnInfo, Req};
use crate::config::{LocConf, ReturnBody, Server, ServerName};
use crate::http::{self, RequestHead};
use crate::log::{self, Level};
use crate::lua::driver::{self, Outcome};
use crate::lua::LoadError;
use crate::worker::Worker;

pub fn listens_on(s: &Server, local: SocketAddr) -> bool {
    s.listens.iter().any(|l| {
        l.addr.port() == local.port() && (l.addr.ip().is_unspecified() || l.addr.ip() == local.ip())
    })
}

/// nginx's virtual server choice: exact name, leading wildcard (longest),
/// trailing wildcard, regex in order, else the default server.
fn select_server(cands: &[Arc<Server>], default: &Arc<Server>, host: Option<&[u8]>) -> Arc<Server> {
    let Some(host) = host else {
        return default.clone();
    };
    let host: &[u8] = match host.iter().rposition(|&b| b == b':') {
        Some(i) if !host.starts_with(b"[") => &host[..i],
        _ => host,
    };
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix(b".").unwrap_or(&host);
    let mut best_wild: Option<(usize, &Arc<Server>)> = None;
    let mut end_wild = None;
    for s in cands {
        for n in &s.names {
            match n {
                ServerName::Exact(e) if e.as_bytes() == host => return s.clone(),
                ServerName::WildStart(suffix) => {
                    let sfx = suffix.as_bytes();
                    let hit = host.ends_with(sfx) || host == &sfx[1..];
                    if hit && best_wild.is_none_or(|(l, _)| sfx.len() > l) {
                        best_wild = Some((sfx.len(), s));
                    }
                }
                ServerName::WildEnd(pfx)
                    if host.starts_with(pfx.as_bytes()) && end_wild.is_none() =>
                {
                    end_wild = Some(s)
                }
                _ => {}
            }
        }
    }
    if let Some((_, s)) = best_wild {
        return s.clone();
    }
    if let Some(s) = end_wild {
        return s.clone();
    }
    for s in cands {
        for n in &s.names {
            if let ServerName::Regex(re) = n {
                if re.is_match(host).unwrap_or(false) {
                    return s.clone();
                }
            }
        }
    }
    default.clone()
}

/// Log with a connection's context before a request exists.
pub fn log_conn(info: &ConnInfo, server: &Server, level: Level, msg: &str) {
    if log::enabled(level) {
        let ctx = format!(", client: {}, server: {}", info.peer.ip(), server.name);
        log::log_to(None, level, Some(info.number), msg, &ctx);
    }
}

/// Answer a request we could not even parse with nginx's error page, then close.
pub async fn reject(info: &ConnInfo, server: &Server, status: u16) {
    let body = http::pages::page(status, server.conf.server_tokens).unwrap_or_default();
    let mut out = Vec::with_capacity(256 + body.len());
    http::status_line(&mut out, status);
    out.extend_from_slice(b"Server: ");
    out.extend_from_slice(http::pages::server_tokens_str(server.conf.server_tokens).as_bytes());
    out.extend_from_slice(b"\r\nDate: ");
    ngx_util::with_http_date(|d| out.extend_from_slice(d.as_bytes()));
    out.extend_from_slice(b"\r\nContent-Type: text/html\r\nContent-Length: ");
    http::push_num(&mut out, body.len() as u64);
    out.extend_from_slice(b"\r\nConnection: close\r\n\r\n");
    out.extend_from_slice(&body);
    let _ = tokio::time::timeout(Duration::from_secs(5), http::write_all(&info.stream, &out)).await;
}

/// Split the request target into the normalized `$uri` and `$args`.
/// Clean paths (the common case) share the request buffer instead of copying.
fn split_target(head: &RequestHead) -> Option<(Bytes, Option<Bytes>)> {
    let all = head.target_bytes();
    // absolute-form: http://host/path?args
    let t = if all.starts_with(b"http://") || all.starts_with(b"https://") {
        let start = all.iter().position(|&b| b == b'/').map(|i| i + 2)?;
        match all[start..].iter().position(|&b| b == b'/') {
            Some(i) => all.slice(start + i..),
            None => Bytes::from_static(b"/"),
        }
    } else {
        all
    };
    let (path, args) = match memchr::memchr(b'?', &t) {
        // `/t?` has no arguments at all ($args is not found, $is_args empty)
        Some(i) if i + 1 == t.len() => (t.slice(..i), None),
        Some(i) => (t.slice(..i), Some(t.slice(i + 1..))),
        None => (t, None),
    };
    let clean = memchr::memchr2(b'%', b'#', &path).is_none()
        && memchr::memmem::find(&path, b"//").is_none()
        && memchr::memmem::find(&path, b"/.").is_none();
    if clean {
        return Some((path, args));
    }
    let uri = ngx_util::normalize_uri_path(&path)?;
    Some((Bytes::from(uri), args))
}

/// Serve one request; returns whether the connection stays open.
pub async fn handle(
    w: &Rc<Worker>,
    info: &Rc<ConnInfo>,
    head: RequestHead,
    buf: &mut BytesMut,
    cands: &[Arc<Server>],
    default: &Arc<Server>,
) -> bool {
    ngx_util::update_time();
    let server = select_server(cands, default, head.host());
    let Some((uri, args)) = split_target(&head) else {
        log_conn(info, &server, Level::Info, "client sent invalid request");
        reject(info, &server, 400).await;
        return false;
    };
    let (location, spans) = server.locations.find_captures(&uri);
    let captures: Vec<Option<Bytes>> = spans
        .into_iter()
        .map(|c| c.map(|(a, b)| uri.slice(a..b)))
        .collect();
    let (loc, alias_prefix): (Arc<LocConf>, Option<Box<str>>) = match &location {
        Some(l) => (l.conf.clone(), location_prefix(l)),
        None => (server.default_loc.clone(), None),
    };
    let mut req = Req::new(
        w.next_request_id(),
        info.clone(),
        head,
        uri,
        args,
        super::Route {
            server: server.clone(),
            loc,
            alias_prefix,
        },
    );
    req.captures = captures;
    let req = Rc::new(req);

    // the body stays on the wire until something asks for it (request/body.rs)
    super::body::attach(&req, buf);
    let max = req.loc.client_max_body_size;
    if max > 0 && req.head.content_length.is_some_and(|l| l > max) {
        req.log(
            Level::Error,
            &format!(
                "client intended to send too large body: {} bytes",
                req.head.content_length.unwrap_or(0)
            ),
        );
        respond_special(&req, 413);
        let keep = write_out(&req).await;
        return super::body::finish(&req, keep, buf).await;
    }
    if req.loc.need_request_body && req.loc.content.is_some() {
        if let Err(status) = super::body::read_body(&req).await {
            if status == 499 {
                return false;
            }
            respond_special(&req, status);
            let keep = write_out(&req).await;
            return super::body::finish(&req, keep, buf).await;
        }
    }

    run_handlers(w, &req).await;
    {
        let mut resp = req.resp.borrow_mut();
        if !resp.eof {
            output::finish(&req, &mut resp);
        }
    }
    let keep = write_out(&req).await;
    let keep = super::body::finish(&req, keep, buf).await;
    super::access_log(&req);
    keep
}

fn location_prefix(l: &crate::config::location::Location) -> Option<Box<str>> {
    use crate::config::LocationMatch::*;
    match &l.matcher {
        Prefix(p) | PrefixNoRegex(p) | Exact(p) => Some(p.clone().into_boxed_str()),
        _ => None,
    }
}

fn respond_special(req: &Req, status: u16) {
    let mut resp = req.resp.borrow_mut();
    output::special_response(req, &mut resp, status);
}

async fn write_out(req: &Req) -> bool {
    let out = std::mem::take(&mut req.resp.borrow_mut().out);
    let timeout = Duration::from_millis(req.loc.send_timeout_ms);
    match tokio::time::timeout(timeout, http::write_all(&req.conn.stream, &out)).await {
        Ok(Ok(())) => {}
        _ => return false,
    }
    let resp = req.resp.borrow();
    resp.keepalive && !resp.broken
}

async fn run_handlers(w: &Rc<Worker>, req: &Rc<Req>) {
    // find-config phase: `internal;` locations are not reachable from outside
    if req.loc.internal {
        respond_special(req, 404);
        return;
    }
    if let Some(ret) = req.server.conf.ret.clone().or_else(|| req.loc.ret.clone()) {
        do_return(req, &ret);
        return;
    }
    if let Some(chunk) = req.loc.content.clone() {
        req.resp.borrow_mut().use_default_type = true;
        // `content_by_lua_file html/$arg_f.lua`: the path is evaluated per request
        let path = match &chunk.src {
            crate::config::ChunkSrc::File(p) if p.to_string_lossy().contains('$') => {
                let parts = crate::config::compile_vars(&p.to_string_lossy());
                Some(String::from_utf8_lossy(&super::vars::eval(req, &parts)).into_owned())
            }
            _ => None,
        };
        let outcome = match w.vm.prepare(&chunk, req.loc.globals, path.as_deref()) {
            Ok((key, isolated)) => {
                let o = driver::run(&w.vm, Some(req.clone()), key, isolated).await;
                w.vm.forget(&chunk, key);
                o
            }
            Err(LoadError::NotFound(msg)) => {
                req.log(Level::Error, &msg);
                respond_special(req, 404);
                return;
            }
            Err(LoadError::Other(msg)) => {
                req.log(Level::Error, &msg);
                respond_special(req, 500);
                return;
            }
        };
        if req.ctx_used.get() {
            w.vm.end_request(req.id);
        }
        finish_lua(req, outcome);
        return;
    }
    if req.loc.internal {
        respond_special(req, 404);
        return;
    }
    super::static_file::serve(req).await;
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

fn do_return(req: &Req, ret: &crate::config::Return) {
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
            output::send_headers(req, &mut resp);
            if !resp.header_only {
                resp.body_bytes_sent += text.len() as u64;
                resp.out.extend_from_slice(&text);
            }
            resp.eof = true;
        }
    }
}

/// What the end of a content handler means for the response (ngx.exit rules).
fn finish_lua(req: &Req, outcome: Outcome) {
    let mut resp = req.resp.borrow_mut();
    match outcome {
        Outcome::Done => {}
        Outcome::Exit(code) => {
            if code == 444 || code == -1 {
                // ngx.ERROR / 444: drop the connection without a (further) response
                resp.broken = true;
                resp.out.clear();
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
            return;
        }
    }
    if !resp.eof {
        output::finish(req, &mut resp);
    }
}
