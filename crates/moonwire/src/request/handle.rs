//! From a parsed head to a written response: virtual server, location,
//! body, handler (return / Lua / static file), access log.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::output;
use super::{ConnInfo, Req};
use crate::config::{Server, ServerName};
use crate::http::{self, RequestHead};
use crate::log::{self, Level};
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
    let (route, captures) = super::phases::route(&server, &uri);
    let mut req = Req::new(w.next_request_id(), info.clone(), head, uri, args, route);
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

    let req = super::phases::run(w, req).await;
    super::phases::complete(&req).await;
    let keep = write_out(&req).await;
    let keep = super::body::finish(&req, keep, buf).await;
    super::phases::log_phase(w, &req).await;
    if req.ctx_used.get() {
        w.vm.end_request(req.id);
    }
    super::access_log(&req);
    keep
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
