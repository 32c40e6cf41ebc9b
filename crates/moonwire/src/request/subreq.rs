//! Subrequests (`ngx.location.capture`, `capture_multi`): a request to a
//! location of the same server, run through every phase with its output
//! captured instead of written, in parallel with its siblings.

use std::rc::Rc;

use bytes::{Bytes, BytesMut};

use super::{phases, Req};

/// What the caller asked for, already validated.
pub struct SubOpts {
    pub method: &'static str,
    pub uri: Bytes,
    pub args: Option<Bytes>,
    pub body: Option<Bytes>,
    /// `vars = {...}`: values for variables the config declares with `set`.
    pub vars: Vec<(String, Bytes)>,
    pub copy_all_vars: bool,
    pub share_all_vars: bool,
    /// `ctx = tbl`: registry reference of the table to use as the subrequest's ngx.ctx.
    pub ctx: Option<mlua::Table>,
    pub always_forward_body: bool,
}

/// The captured response.
pub struct SubResult {
    pub status: u16,
    pub headers: Vec<(Box<str>, Vec<u8>)>,
    pub body: Vec<u8>,
    pub truncated: bool,
}

/// nginx method names for `ngx.HTTP_*` numbers.
pub fn method_name(m: i64) -> Option<&'static str> {
    Some(match m {
        0x0002 => "GET",
        0x0004 => "HEAD",
        0x0008 => "POST",
        0x0010 => "PUT",
        0x0020 => "DELETE",
        0x0040 => "MKCOL",
        0x0080 => "COPY",
        0x0100 => "MOVE",
        0x0200 => "OPTIONS",
        0x0400 => "PROPFIND",
        0x0800 => "PROPPATCH",
        0x1000 => "LOCK",
        0x2000 => "UNLOCK",
        0x4000 => "PATCH",
        0x8000 => "TRACE",
        _ => return None,
    })
}

/// The subrequest's head: the parent's headers under a new request line;
/// the body length is the subrequest's own.
fn head_for(parent: &Req, opts: &SubOpts, body_len: Option<usize>) -> crate::http::RequestHead {
    let mut raw = BytesMut::with_capacity(256 + parent.head.raw.len());
    raw.extend_from_slice(opts.method.as_bytes());
    raw.extend_from_slice(b" ");
    raw.extend_from_slice(&opts.uri);
    if let Some(a) = &opts.args {
        raw.extend_from_slice(b"?");
        raw.extend_from_slice(a);
    }
    raw.extend_from_slice(b" HTTP/1.1\r\n");
    for (n, v) in parent.head.headers() {
        if n.eq_ignore_ascii_case(b"content-length") || n.eq_ignore_ascii_case(b"transfer-encoding")
        {
            continue;
        }
        raw.extend_from_slice(n);
        raw.extend_from_slice(b": ");
        raw.extend_from_slice(v);
        raw.extend_from_slice(b"\r\n");
    }
    if let Some(n) = body_len {
        raw.extend_from_slice(b"Content-Length: ");
        raw.extend_from_slice(n.to_string().as_bytes());
        raw.extend_from_slice(b"\r\n");
    }
    raw.extend_from_slice(b"\r\n");
    match crate::http::parse_head(&mut raw) {
        Ok(Some(h)) => h,
        // the parent's own head parsed; with a URI that does not, fall back to it
        _ => parent.head.clone(),
    }
}

/// Run one subrequest of `parent` to completion.
pub async fn run(parent: Rc<Req>, opts: SubOpts) -> SubResult {
    let Some(w) = crate::worker::current() else {
        return SubResult {
            status: 500,
            headers: Vec::new(),
            body: Vec::new(),
            truncated: false,
        };
    };
    let forward = opts.always_forward_body || matches!(opts.method, "POST" | "PUT");
    let body = match &opts.body {
        Some(b) => Some(b.clone()),
        None if forward => parent.body_bytes(),
        None => None,
    };
    let head = head_for(&parent, &opts, body.as_ref().map(|b| b.len()));
    let (route, captures) = phases::route(&parent.server, &opts.uri);
    let mut sub = Req::new(
        w.next_request_id(),
        parent.conn.clone(),
        head,
        opts.uri.clone(),
        opts.args.clone(),
        route,
    );
    sub.captures = captures;
    sub.internal.set(true);
    sub.subrequest = true;
    sub.resp.get_mut().capture = true;
    sub.set_body_bytes(body);
    if opts.copy_all_vars || opts.share_all_vars {
        *sub.user_vars.get_mut() = parent.user_vars.borrow().clone();
    }
    for (k, v) in &opts.vars {
        super::vars::set_user(&sub, k, Some(v));
    }
    if let Some(t) = &opts.ctx {
        let _ = w.vm.ctxs.raw_set(sub.id as i64, t.clone());
        sub.ctx_used.set(true);
    }
    let sub = phases::run(&w, Rc::new(sub)).await;
    phases::complete(&sub).await;
    if sub.ctx_used.get() {
        w.vm.end_request(sub.id);
    }
    if opts.share_all_vars {
        *parent.user_vars.borrow_mut() = sub.user_vars.borrow().clone();
    }
    let mut resp = sub.resp.borrow_mut();
    let mut headers = std::mem::take(&mut resp.headers);
    if let Some(ct) = resp.content_type.take() {
        headers.insert(0, ("Content-Type".into(), ct));
    }
    if let Some(len) = resp.content_length {
        headers.push(("Content-Length".into(), len.to_string().into_bytes()));
    }
    SubResult {
        status: if resp.status == 0 { 200 } else { resp.status },
        headers,
        body: std::mem::take(&mut resp.out),
        truncated: resp.broken,
    }
}
