//! HTTP/1.x wire format: request heads, bodies, response heads, nginx's
//! default pages. No Lua here.
//!
//! We parse with httparse instead of running hyper because OpenResty's API
//! needs what hyper hides: the raw request head (`ngx.req.raw_header`),
//! header names as the client sent them, and the raw socket.

mod body;
pub mod pages;

use bytes::{Bytes, BytesMut};

pub use body::{read_more, write_all, BodyError, BodyReader};

/// Longest request head we accept; nginx's default large_client_header_buffers is 4 x 8k.
pub const MAX_HEAD: usize = 32 * 1024;
/// nginx has no header count limit (only buffer sizes); this is ours.
pub const MAX_HEADERS: usize = 512;

/// A parsed request head. Everything points into `raw` by offset: parsing
/// allocates only the header index.
#[derive(Debug, Clone)]
pub struct RequestHead {
    /// The whole head as received, from the request line to the blank line.
    pub raw: Bytes,
    method: (u32, u32),
    target: (u32, u32),
    /// (name offset, name len, value offset, value len) per header, in arrival order.
    headers: Vec<[u32; 4]>,
    host: Option<(u32, u32)>,
    /// 9 for HTTP/0.9, 10, 11.
    pub version: u8,
    pub content_length: Option<u64>,
    pub chunked: bool,
    /// Whether the client wants the connection kept open (version default + Connection header).
    pub keepalive: bool,
}

impl RequestHead {
    fn slice(&self, r: (u32, u32)) -> &[u8] {
        &self.raw[r.0 as usize..(r.0 + r.1) as usize]
    }

    pub fn method(&self) -> &[u8] {
        self.slice(self.method)
    }

    /// The request target as sent (`/a%20b?x=1`).
    pub fn target(&self) -> &[u8] {
        self.slice(self.target)
    }

    /// The target as a slice of `raw` (shares the buffer, no copy).
    pub fn target_bytes(&self) -> Bytes {
        self.raw
            .slice(self.target.0 as usize..(self.target.0 + self.target.1) as usize)
    }

    pub fn host(&self) -> Option<&[u8]> {
        self.host.map(|r| self.slice(r))
    }

    /// Header (name, value) pairs, names as the client wrote them.
    pub fn headers(&self) -> impl Iterator<Item = (&[u8], &[u8])> + '_ {
        self.headers
            .iter()
            .map(|h| (self.slice((h[0], h[1])), self.slice((h[2], h[3]))))
    }

    pub fn header_count(&self) -> usize {
        self.headers.len()
    }

    /// Request line without the CRLF: `GET /t HTTP/1.1`.
    pub fn request_line(&self) -> &[u8] {
        let end = memchr::memchr(b'\n', &self.raw).unwrap_or(self.raw.len());
        let line = &self.raw[..end];
        line.strip_suffix(b"\r").unwrap_or(line)
    }

    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    pub fn protocol(&self) -> &'static str {
        match self.version {
            11 => "HTTP/1.1",
            10 => "HTTP/1.0",
            _ => "HTTP/0.9",
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum ParseError {
    /// 400: malformed request.
    Bad(&'static str),
    /// 414: the request line alone does not fit.
    UriTooLong,
    /// 505
    Version,
    /// 501: a Transfer-Encoding we do not implement.
    NotImplemented,
}

impl ParseError {
    pub fn status(&self) -> u16 {
        match self {
            ParseError::Bad(_) => 400,
            ParseError::UriTooLong => 414,
            ParseError::Version => 505,
            ParseError::NotImplemented => 501,
        }
    }
}

/// Try to parse a request head from the front of `buf`. `Ok(None)`: need more bytes.
/// On success the head's bytes are split off `buf`.
pub fn parse_head(buf: &mut BytesMut) -> Result<Option<RequestHead>, ParseError> {
    // nginx skips empty lines before a request line (RFC 7230 3.5).
    while buf.starts_with(b"\r\n") || buf.starts_with(b"\n") {
        let n = if buf[0] == b'\r' { 2 } else { 1 };
        let _ = buf.split_to(n);
    }
    let mut hdrs = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut []);
    let n = match req.parse_with_uninit_headers(buf, &mut hdrs) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            if buf.len() >= MAX_HEAD {
                if memchr::memchr(b'\n', buf).is_none() {
                    return Err(ParseError::UriTooLong);
                }
                return Err(ParseError::Bad("client sent too long header line"));
            }
            return Ok(None);
        }
        Err(httparse::Error::Version) => {
            // `GET / HTTP/2.0` is a well-formed line with a version we do not speak.
            if let Some(line) = buf[..].split(|&b| b == b'\n').next() {
                if line.windows(5).any(|w| w == b"HTTP/") && line.len() < MAX_HEAD {
                    let rest = line.rsplit(|&b| b == b'/').next().unwrap_or(b"");
                    if rest
                        .first()
                        .is_some_and(|c| c.is_ascii_digit() && *c >= b'2')
                    {
                        return Err(ParseError::Version);
                    }
                }
            }
            return Err(ParseError::Bad("client sent invalid request"));
        }
        Err(httparse::Error::TooManyHeaders) => {
            return Err(ParseError::Bad("client sent too many headers"))
        }
        Err(_) => {
            // a request line without a space after the method: nginx's "invalid method"
            let line = buf[..].split(|&b| b == b'\n').next().unwrap_or(b"");
            if !line.contains(&b' ') {
                return Err(ParseError::Bad(
                    "client sent invalid method while reading client request line",
                ));
            }
            return Err(ParseError::Bad("client sent invalid request"));
        }
    };
    let base = buf.as_ptr() as usize;
    let range = |s: &[u8]| ((s.as_ptr() as usize - base) as u32, s.len() as u32);
    let method = req.method.map(|m| range(m.as_bytes())).unwrap_or((0, 0));
    let target = req.path.map(|p| range(p.as_bytes())).unwrap_or((0, 0));
    let version = if req.version == Some(1) { 11 } else { 10 };
    let mut head = RequestHead {
        raw: Bytes::new(),
        method,
        target,
        headers: Vec::with_capacity(req.headers.len()),
        host: None,
        version,
        content_length: None,
        chunked: false,
        keepalive: version == 11,
    };
    for h in req.headers.iter() {
        let (nr, vr) = (range(h.name.as_bytes()), range(h.value));
        head.headers.push([nr.0, nr.1, vr.0, vr.1]);
        let name = h.name.as_bytes();
        let value = h.value;
        match name.len() {
            4 if name.eq_ignore_ascii_case(b"host") => {
                if head.host.is_some() {
                    return Err(ParseError::Bad("client sent duplicate host header"));
                }
                head.host = Some(vr);
            }
            14 if name.eq_ignore_ascii_case(b"content-length") => {
                let v = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok());
                match v {
                    Some(v) if head.content_length.is_none() => head.content_length = Some(v),
                    _ => {
                        return Err(ParseError::Bad(
                            "client sent invalid \"Content-Length\" header",
                        ))
                    }
                }
            }
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                if value.eq_ignore_ascii_case(b"chunked") {
                    head.chunked = true;
                } else if !value.eq_ignore_ascii_case(b"identity") {
                    return Err(ParseError::NotImplemented);
                }
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                if contains_token(value, b"close") {
                    head.keepalive = false;
                } else if contains_token(value, b"keep-alive") {
                    head.keepalive = true;
                }
            }
            _ => {}
        }
    }
    head.raw = buf.split_to(n).freeze();
    if head.chunked && head.content_length.is_some() {
        return Err(ParseError::Bad(
            "client sent \"Content-Length\" and \"Transfer-Encoding\" headers at the same time",
        ));
    }
    if head.version == 11 && head.host.is_none() {
        return Err(ParseError::Bad(
            "client sent HTTP/1.1 request without \"Host\" header",
        ));
    }
    let t = head.target();
    if !t.starts_with(b"/") && !t.starts_with(b"http") && head.method() != b"OPTIONS" {
        return Err(ParseError::Bad("client sent invalid request"));
    }
    Ok(Some(head))
}

fn contains_token(v: &[u8], tok: &[u8]) -> bool {
    v.split(|&b| b == b',')
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(tok))
}

/// nginx's reason phrases.
pub fn reason(status: u16) -> Option<&'static str> {
    Some(match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Time-out",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Request Entity Too Large",
        414 => "Request-URI Too Large",
        415 => "Unsupported Media Type",
        416 => "Requested Range Not Satisfiable",
        421 => "Misdirected Request",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Temporarily Unavailable",
        504 => "Gateway Time-out",
        505 => "HTTP Version Not Supported",
        507 => "Insufficient Storage",
        _ => return None,
    })
}

/// Append `HTTP/1.1 200 OK\r\n` (nginx answers 1.0 clients with a 1.1 status line too).
pub fn status_line(out: &mut Vec<u8>, status: u16) {
    out.extend_from_slice(b"HTTP/1.1 ");
    let mut b = itoa_buf(status as u64);
    out.extend_from_slice(b.as_bytes_mut());
    match reason(status) {
        Some(r) => {
            out.push(b' ');
            out.extend_from_slice(r.as_bytes());
        }
        None => out.push(b' '),
    }
    out.extend_from_slice(b"\r\n");
}

/// A small stack number formatter (avoids fmt machinery on the hot path).
pub struct NumBuf {
    buf: [u8; 20],
    start: usize,
}

impl NumBuf {
    pub fn as_bytes_mut(&mut self) -> &[u8] {
        &self.buf[self.start..]
    }
}

pub fn itoa_buf(mut n: u64) -> NumBuf {
    let mut buf = [0u8; 20];
    let mut i = 20;
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    NumBuf { buf, start: i }
}

pub fn push_num(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa_buf(n).as_bytes_mut());
}

pub fn push_num_signed(out: &mut Vec<u8>, n: i64) {
    if n < 0 {
        out.push(b'-');
    }
    push_num(out, n.unsigned_abs());
}

pub fn push_hex(out: &mut Vec<u8>, mut n: usize) {
    let mut buf = [0u8; 16];
    let mut i = 16;
    loop {
        i -= 1;
        buf[i] = b"0123456789abcdef"[n & 15];
        n >>= 4;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<RequestHead>, ParseError> {
        let mut b = BytesMut::from(s);
        parse_head(&mut b)
    }

    #[test]
    fn simple() {
        let h = parse("GET /t?a=1 HTTP/1.1\r\nHost: x\r\nX-Foo: bar\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.method(), b"GET");
        assert_eq!(h.target(), b"/t?a=1");
        assert_eq!(h.version, 11);
        assert!(h.keepalive);
        assert_eq!(h.request_line(), b"GET /t?a=1 HTTP/1.1");
        assert_eq!(h.headers().nth(1).unwrap().0, b"X-Foo");
    }

    #[test]
    fn partial_and_errors() {
        assert!(parse("GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none());
        assert_eq!(parse("GET / HTTP/1.1\r\n\r\n").unwrap_err().status(), 400);
        assert_eq!(parse("GARBAGE\r\n\r\n").unwrap_err().status(), 400);
        assert_eq!(
            parse("GET / HTTP/1.0\r\nContent-Length: x\r\n\r\n")
                .unwrap_err()
                .status(),
            400
        );
        assert_eq!(
            parse("GET / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n")
                .unwrap_err()
                .status(),
            501
        );
        let h = parse("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!h.keepalive);
        let h = parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.keepalive);
    }

    #[test]
    fn numbers() {
        let mut v = Vec::new();
        push_num(&mut v, 0);
        push_num(&mut v, 12345);
        push_hex(&mut v, 255);
        assert_eq!(v, b"012345ff");
    }
}
