//! Building the response on the wire the way nginx does: one head, then the
//! body either with a known Content-Length or chunked (HTTP/1.1 output whose
//! length is unknown when the head goes out), all collected into one pending
//! buffer that is written with as few syscalls as possible.

use std::io;

use crate::http::{self, push_hex, push_num};

use super::Req;

/// Header names nginx keeps outside the generic list.
#[derive(Debug, Default)]
pub struct Resp {
    /// 0 until set (then 200 is used when the head goes out).
    pub status: u16,
    /// Other headers, in the order set; a multi-value header appears several times.
    pub headers: Vec<(Box<str>, Vec<u8>)>,
    pub content_type: Option<Vec<u8>>,
    pub content_length: Option<u64>,
    pub last_modified: Option<i64>,
    pub headers_sent: bool,
    pub chunked: bool,
    pub eof: bool,
    /// The connection stays open after this response.
    pub keepalive: bool,
    /// Bytes ready to write: head and encoded body.
    pub out: Vec<u8>,
    /// HTTP/1.0 output held back until the end so Content-Length is known.
    pub buffered: Option<Vec<u8>>,
    pub body_bytes_sent: u64,
    pub bytes_sent: u64,
    /// The response has no body on the wire (HEAD, 204, 304).
    pub header_only: bool,
    /// A write failed; the connection is closed after the handler.
    pub broken: bool,
    /// A subrequest's response: the head is not rendered and the body is
    /// collected in `out` as is.
    pub capture: bool,
    /// lua_use_default_type: a Lua handler's response gets `default_type`
    /// when it set no Content-Type.
    pub use_default_type: bool,
    /// `ngx.header.content_type = nil`: no Content-Type at all.
    pub content_type_cleared: bool,
    /// Reused buffer for rendering ngx.say arguments.
    pub scratch: Vec<u8>,
    /// `ngx.resp.set_status(status, reason)`: the reason phrase to send.
    pub reason: Option<Vec<u8>>,
    /// A complete body (error page, file, `return` text) waiting for the Lua
    /// output filters, which run once the phases are over.
    pub deferred: Option<Vec<u8>>,
}

impl Resp {
    pub fn new(keepalive: bool) -> Resp {
        Resp {
            keepalive,
            // one allocation that fits the head and a small body
            out: Vec::with_capacity(1024),
            ..Default::default()
        }
    }

    pub fn find_header(&self, name: &str) -> Option<usize> {
        self.headers
            .iter()
            .position(|(n, _)| n.eq_ignore_ascii_case(name))
    }

    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

/// Render the response head into `resp.out` and decide the body framing.
pub fn send_headers(req: &Req, resp: &mut Resp) {
    if resp.headers_sent {
        return;
    }
    resp.headers_sent = true;
    if resp.status == 0 {
        resp.status = 200;
    }
    let st = resp.status;
    if req.is_head() || st == 204 || st == 304 || (100..200).contains(&st) {
        resp.header_only = true;
    }
    if st == 204 || st == 304 {
        resp.content_length = None;
    }
    if st == 204 {
        // ngx_http_header_filter: a 204 has no body and no type
        resp.content_type = None;
        resp.content_type_cleared = true;
    }
    if resp.use_default_type
        && req.loc.use_default_type
        && resp.content_type.is_none()
        && !resp.content_type_cleared
    {
        resp.content_type = Some(req.loc.default_type.as_bytes().to_vec());
    }
    if resp.capture {
        return;
    }
    let is11 = req.head.version == 11;
    if resp.content_length.is_none() && !resp.header_only && st != 204 && st != 304 {
        if is11 {
            resp.chunked = true;
        } else {
            // HTTP/1.0 without a length: the end of the body is the end of the connection.
            resp.keepalive = false;
        }
    }
    let conn = &req.conn;
    if resp.keepalive {
        resp.keepalive = req.head.keepalive
            && req.loc.keepalive_timeout_ms > 0
            && conn.requests.get() < req.loc.keepalive_requests
            && !crate::worker::exiting();
    }
    if st == 101 {
        // the connection becomes another protocol's (WebSocket ...)
        resp.keepalive = false;
    }
    let out = &mut resp.out;
    match &resp.reason {
        Some(reason) => {
            out.extend_from_slice(b"HTTP/1.1 ");
            push_num(out, st as u64);
            out.push(b' ');
            out.extend_from_slice(reason);
            out.extend_from_slice(b"\r\n");
        }
        None => http::status_line(out, st),
    }
    if resp
        .headers
        .iter()
        .all(|(n, _)| !n.eq_ignore_ascii_case("server"))
    {
        out.extend_from_slice(b"Server: ");
        out.extend_from_slice(http::pages::server_tokens_str(req.loc.server_tokens).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if resp
        .headers
        .iter()
        .all(|(n, _)| !n.eq_ignore_ascii_case("date"))
    {
        out.extend_from_slice(b"Date: ");
        ngx_util::with_http_date(|d| out.extend_from_slice(d.as_bytes()));
        out.extend_from_slice(b"\r\n");
    }
    if let Some(ct) = &resp.content_type {
        out.extend_from_slice(b"Content-Type: ");
        out.extend_from_slice(ct);
        out.extend_from_slice(b"\r\n");
    }
    if let Some(len) = resp.content_length {
        out.extend_from_slice(b"Content-Length: ");
        push_num(out, len);
        out.extend_from_slice(b"\r\n");
    }
    if let Some(lm) = resp.last_modified {
        out.extend_from_slice(b"Last-Modified: ");
        out.extend_from_slice(ngx_util::http_time(lm).as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if resp.chunked {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
    }
    out.extend_from_slice(if st == 101 {
        b"Connection: upgrade\r\n"
    } else if resp.keepalive {
        b"Connection: keep-alive\r\n"
    } else {
        b"Connection: close\r\n"
    });
    for (n, v) in &resp.headers {
        push_header_text(out, n.as_bytes());
        out.extend_from_slice(b": ");
        push_header_text(out, v);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    resp.bytes_sent += out.len() as u64;
}

/// CR and LF inside a header would split it (header injection): escape them as OpenResty does.
fn push_header_text(out: &mut Vec<u8>, s: &[u8]) {
    if memchr::memchr2(b'\r', b'\n', s).is_none() {
        out.extend_from_slice(s);
        return;
    }
    for &b in s {
        match b {
            b'\r' => out.extend_from_slice(b"%0D"),
            b'\n' => out.extend_from_slice(b"%0A"),
            _ => out.push(b),
        }
    }
}

/// Whether the head is held back (HTTP/1.0 output collected so that
/// Content-Length is known at the end).
pub fn holds_head(req: &Req, resp: &Resp) -> bool {
    !resp.capture && req.head.version != 11 && resp.content_length.is_none() && !req.is_head()
}

/// A whole response whose head fields are set: head and body now, or, when
/// Lua output filters apply, once the phases are over.
pub fn respond(req: &Req, resp: &mut Resp, body: &[u8]) {
    if super::filter::active(req) && !resp.headers_sent {
        resp.deferred = Some(body.to_vec());
        return;
    }
    send_headers(req, resp);
    if !resp.header_only {
        resp.body_bytes_sent += body.len() as u64;
        resp.out.extend_from_slice(body);
    }
    resp.eof = true;
}

/// Append body bytes (already past any output filters).
pub fn write_body(req: &Req, resp: &mut Resp, data: &[u8]) {
    if !resp.headers_sent {
        if holds_head(req, resp) {
            // lua_http10_buffering: hold HTTP/1.0 output to compute Content-Length at the end.
            resp.buffered
                .get_or_insert_with(Vec::new)
                .extend_from_slice(data);
            return;
        }
        send_headers(req, resp);
    }
    if resp.header_only || data.is_empty() {
        return;
    }
    if resp.capture {
        resp.body_bytes_sent += data.len() as u64;
        resp.out.extend_from_slice(data);
        return;
    }
    if resp.chunked {
        // nginx counts the chunk framing in $body_bytes_sent
        let before = resp.out.len();
        push_hex(&mut resp.out, data.len());
        resp.out.extend_from_slice(b"\r\n");
        resp.out.extend_from_slice(data);
        resp.out.extend_from_slice(b"\r\n");
        resp.body_bytes_sent += (resp.out.len() - before) as u64;
    } else {
        resp.body_bytes_sent += data.len() as u64;
        resp.out.extend_from_slice(data);
    }
}

/// The end of the body: send the head if it has not gone yet, then the last chunk.
pub fn finish(req: &Req, resp: &mut Resp) {
    if resp.eof {
        return;
    }
    if !resp.headers_sent {
        if let Some(b) = resp.buffered.take() {
            resp.content_length = Some(b.len() as u64);
            send_headers(req, resp);
            if !resp.header_only {
                resp.body_bytes_sent += b.len() as u64;
                resp.out.extend_from_slice(&b);
            }
        } else {
            send_headers(req, resp);
        }
    }
    if resp.chunked {
        resp.out.extend_from_slice(b"0\r\n\r\n");
        resp.body_bytes_sent += 5;
    }
    resp.eof = true;
}

/// Turn the response into nginx's special response for `status` (error and
/// redirect pages), discarding anything not yet sent.
pub fn special_response(req: &Req, resp: &mut Resp, status: u16) {
    resp.status = status;
    let page = http::pages::page(status, req.loc.server_tokens);
    resp.buffered = None;
    resp.deferred = None;
    resp.use_default_type = false;
    match page {
        Some(body) => {
            resp.content_type = Some(b"text/html".to_vec());
            resp.content_length = Some(body.len() as u64);
            // ngx_http_special_response_handler closes the connection after these
            if matches!(status, 400 | 413 | 414 | 495 | 496 | 497 | 500 | 501) {
                resp.keepalive = false;
            }
            respond(req, resp, &body);
        }
        None => {
            resp.content_type = None;
            resp.content_length = if status == 204 || status == 304 {
                None
            } else {
                Some(0)
            };
            respond(req, resp, b"");
        }
    }
}

/// Write whatever can go out right now without waiting; the rest stays queued.
pub fn try_flush(req: &Req, resp: &mut Resp) -> io::Result<()> {
    let mut written = 0;
    while written < resp.out.len() {
        match req.conn.stream.try_write(&resp.out[written..]) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => {
                resp.broken = true;
                resp.out.clear();
                return Err(e);
            }
        }
    }
    resp.out.drain(..written);
    Ok(())
}
