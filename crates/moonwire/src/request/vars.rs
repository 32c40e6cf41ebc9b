//! nginx variables (`$uri`, `$arg_x`, `$http_host` ...) for `ngx.var`,
//! `return` text and log formats.

use std::io::Write;

use crate::config::LogFmtPart;

use super::Req;

/// `$http_x_foo` matches the header `X-Foo`: dashes in the request become underscores.
fn var_name_matches(n: &[u8], name: &str) -> bool {
    n.len() == name.len()
        && n.iter().zip(name.bytes()).all(|(&a, b)| {
            let a = if a == b'-' {
                b'_'
            } else {
                a.to_ascii_lowercase()
            };
            a == b
        })
}

fn header(req: &Req, name: &str) -> Option<Vec<u8>> {
    let mut out = None;
    req.for_each_header(|n, v| {
        if var_name_matches(n, name) {
            out = Some(v.to_vec());
            return false;
        }
        true
    });
    out
}

fn cookie(req: &Req, name: &[u8]) -> Option<Vec<u8>> {
    let mut out = None;
    req.for_each_header(|n, v| {
        if !n.eq_ignore_ascii_case(b"cookie") {
            return true;
        }
        for part in v.split(|&b| b == b';') {
            let part = part.trim_ascii();
            if let Some(eq) = part.iter().position(|&b| b == b'=') {
                if &part[..eq] == name {
                    out = Some(part[eq + 1..].to_vec());
                    return false;
                }
            }
        }
        true
    });
    out
}

/// `$arg_name`: the raw (still escaped) value of the first `name=` in the query string.
fn arg(args: &[u8], name: &[u8]) -> Option<Vec<u8>> {
    for part in args.split(|&b| b == b'&') {
        let (k, v) = match part.iter().position(|&b| b == b'=') {
            Some(i) => (&part[..i], &part[i + 1..]),
            None => (part, &b""[..]),
        };
        if k.eq_ignore_ascii_case(name) {
            return Some(v.to_vec());
        }
    }
    None
}

pub fn host(req: &Req) -> Vec<u8> {
    // ngx.req.set_header("Host", ...) changes $host, as nginx's Host handler does
    let changed;
    let host = if req.headers_in.borrow().is_some() {
        changed = req.header_in(b"host");
        changed.as_deref()
    } else {
        req.head.host()
    };
    match host {
        Some(h) => {
            let h = if h.starts_with(b"[") {
                h
            } else {
                match h.iter().rposition(|&b| b == b':') {
                    Some(i) => &h[..i],
                    None => h,
                }
            };
            h.to_ascii_lowercase()
        }
        None => req.server.name.as_bytes().to_vec(),
    }
}

pub fn document_root(req: &Req) -> Vec<u8> {
    eval(req, &req.loc.root)
}

/// `$1`...: a capture of the matched regex location.
pub fn capture(req: &Req, n: usize) -> Option<Vec<u8>> {
    req.captures
        .get(n)
        .and_then(|c| c.as_ref())
        .map(|b| b.to_vec())
}

/// Headers nginx joins when a request repeats them.
fn joined_header(req: &Req, name: &str, sep: &[u8]) -> Option<Vec<u8>> {
    let mut out: Option<Vec<u8>> = None;
    req.for_each_header(|n, v| {
        if var_name_matches(n, name) {
            match out.as_mut() {
                Some(o) => {
                    o.extend_from_slice(sep);
                    o.extend_from_slice(v);
                }
                None => out = Some(v.to_vec()),
            }
        }
        true
    });
    out
}

/// Built-in variables that exist but cannot be assigned.
const READ_ONLY: &[&str] = &[
    "uri",
    "document_uri",
    "request_uri",
    "is_args",
    "request_method",
    "request",
    "remote_addr",
    "remote_port",
    "binary_remote_addr",
    "server_addr",
    "server_port",
    "server_name",
    "server_protocol",
    "host",
    "hostname",
    "scheme",
    "https",
    "content_type",
    "content_length",
    "request_time",
    "status",
    "msec",
    "time_local",
    "time_iso8601",
    "pid",
    "nginx_version",
    "connection",
    "connection_requests",
    "document_root",
    "realpath_root",
    "body_bytes_sent",
    "bytes_sent",
    "request_length",
    "request_body",
    "remote_user",
];

/// The value of `$name`, or `None` when nginx would give "not found".
pub fn get(req: &Req, name: &str) -> Option<Vec<u8>> {
    {
        let uv = req.user_vars.borrow();
        if !uv.is_empty() {
            if let Some((_, v)) = uv.iter().find(|(n, _)| &**n == name) {
                return Some(v.to_vec());
            }
        }
    }
    if let Ok(n) = name.parse::<usize>() {
        return capture(req, n);
    }
    if let Some(n) = name.strip_prefix("arg_") {
        let args = req.args.borrow();
        return args.as_ref().and_then(|a| arg(a, n.as_bytes()));
    }
    if let Some(n) = name.strip_prefix("http_") {
        match n {
            "cookie" => return joined_header(req, n, b"; "),
            "x_forwarded_for" => return joined_header(req, n, b", "),
            _ => return header(req, n),
        }
    }
    if let Some(n) = name.strip_prefix("cookie_") {
        return cookie(req, n.as_bytes());
    }
    if let Some(n) = name.strip_prefix("sent_http_") {
        let resp = req.resp.borrow();
        if n == "content_type" {
            return resp.content_type.clone();
        }
        if n == "content_length" {
            return resp.content_length.map(|l| l.to_string().into_bytes());
        }
        let want: String = n.replace('_', "-");
        return resp
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&want))
            .map(|(_, v)| v.clone());
    }
    let conn = &req.conn;
    Some(match name {
        "uri" | "document_uri" => req.uri.borrow().to_vec(),
        "request_uri" => req.head.target().to_vec(),
        "args" | "query_string" => return req.args.borrow().as_ref().map(|a| a.to_vec()),
        "is_args" => {
            if req.args.borrow().is_some() {
                b"?".to_vec()
            } else {
                Vec::new()
            }
        }
        "request_method" => req.method().to_vec(),
        "request" => req.head.request_line().to_vec(),
        "remote_addr" => conn.peer.ip().to_string().into_bytes(),
        "remote_port" => conn.peer.port().to_string().into_bytes(),
        "binary_remote_addr" => match conn.peer.ip() {
            std::net::IpAddr::V4(a) => a.octets().to_vec(),
            std::net::IpAddr::V6(a) => a.octets().to_vec(),
        },
        "server_addr" => conn.local.ip().to_string().into_bytes(),
        "server_port" => conn.local.port().to_string().into_bytes(),
        "server_name" => req.server.name.as_bytes().to_vec(),
        "server_protocol" => req.head.protocol().as_bytes().to_vec(),
        "host" => host(req),
        "hostname" => crate::worker::hostname().as_bytes().to_vec(),
        "scheme" => b"http".to_vec(),
        "https" => Vec::new(),
        "content_type" => return header(req, "content_type"),
        "content_length" => return header(req, "content_length"),
        "request_time" => {
            let t = req.start_instant.elapsed().as_millis();
            format!("{}.{:03}", t / 1000, t % 1000).into_bytes()
        }
        "status" => {
            let s = req.resp.borrow().status;
            format!("{s:03}").into_bytes()
        }
        "msec" => {
            let now = ngx_util::now();
            format!("{now:.3}").into_bytes()
        }
        "time_local" => ngx_util::time_local().as_bytes().to_vec(),
        "time_iso8601" => ngx_util::time_iso8601().as_bytes().to_vec(),
        "pid" => std::process::id().to_string().into_bytes(),
        "nginx_version" => crate::NGINX_VERSION.as_bytes().to_vec(),
        "connection" => conn.number.to_string().into_bytes(),
        "connection_requests" => conn.requests.get().to_string().into_bytes(),
        "document_root" => document_root(req),
        "realpath_root" => {
            let root = document_root(req);
            let p = std::path::PathBuf::from(String::from_utf8_lossy(&root).into_owned());
            match std::fs::canonicalize(&p) {
                Ok(r) => r.to_string_lossy().into_owned().into_bytes(),
                Err(_) => return None,
            }
        }
        "body_bytes_sent" => req.resp.borrow().body_bytes_sent.to_string().into_bytes(),
        "bytes_sent" => req.resp.borrow().bytes_sent.to_string().into_bytes(),
        "request_length" => {
            let body = req.body.borrow().received;
            (req.head.raw.len() as u64 + body).to_string().into_bytes()
        }
        "request_body" => return req.body.borrow().mem().map(|b| b.to_vec()),
        "remote_user" => return None,
        "server_software" => crate::server_software().as_bytes().to_vec(),
        _ => return None,
    })
}

/// Whether `ngx.var.NAME = v` may change the variable.
/// Whether `set $name` appears anywhere in the config.
pub fn declared(name: &str) -> bool {
    crate::worker::current()
        .and_then(|w| w.cfg.http.as_ref().map(|h| h.user_vars.contains(name)))
        .unwrap_or(false)
}

/// Store a user variable's value (the `set` directive, ngx.var.NAME = v).
pub fn set_user(req: &Req, name: &str, value: Option<&[u8]>) {
    let mut uv = req.user_vars.borrow_mut();
    let v = bytes::Bytes::copy_from_slice(value.unwrap_or(b""));
    match uv.iter_mut().find(|(n, _)| &**n == name) {
        Some(slot) => slot.1 = v,
        None => uv.push((name.into(), v)),
    }
}

pub fn set(req: &Req, name: &str, value: Option<&[u8]>) -> Result<(), String> {
    match name {
        _ if declared(name) => {
            set_user(req, name, value);
            Ok(())
        }
        "args" | "query_string" => {
            *req.args.borrow_mut() = value.map(bytes::Bytes::copy_from_slice);
            Ok(())
        }
        _ if READ_ONLY.contains(&name) || name.starts_with("arg_") || name.starts_with("http_") || name.starts_with("cookie_") => {
            Err(format!("variable \"{name}\" not changeable"))
        }
        _ => Err(format!(
            "variable \"{name}\" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use \"set ${name} '';\" in the config file to define it first"
        )),
    }
}

/// Evaluate a compiled template (`return` text, `root`, log formats).
pub fn eval(req: &Req, parts: &[LogFmtPart]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        match p {
            LogFmtPart::Lit(s) => out.extend_from_slice(s.as_bytes()),
            LogFmtPart::Var(v) => {
                if let Some(val) = get(req, v) {
                    out.extend_from_slice(&val);
                }
            }
        }
    }
    out
}

/// Evaluate for a log line: missing values print as `-` like nginx's log module.
pub fn eval_log(req: &Req, parts: &[LogFmtPart], out: &mut Vec<u8>) {
    for p in parts {
        match p {
            LogFmtPart::Lit(s) => out.extend_from_slice(s.as_bytes()),
            LogFmtPart::Var(v) => match get(req, v) {
                Some(val) if !val.is_empty() => {
                    for &b in &val {
                        // nginx escapes ", \ and non-printable bytes as \xXX in logs
                        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
                            let _ = write!(out, "\\x{b:02X}");
                        } else {
                            out.push(b);
                        }
                    }
                }
                _ => out.push(b'-'),
            },
        }
    }
}
