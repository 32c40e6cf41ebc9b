//! The receive patterns of `tcpsock:receive` / `receiveany` /
//! `receiveuntil`, written as steps over the connection's buffer so the same
//! code serves every chunking of the input.
//!
//! Results follow lua-nginx-module's input filters
//! (`src/ngx_http_lua_input_filters.c`):
//! * `receive(n)`: exactly `n` bytes; EOF first is `closed` with the bytes
//!   so far as partial.
//! * `*l`: up to the next LF; every CR in the line is dropped (not only one
//!   before the LF), in the partial data too.
//! * `*a`: everything until EOF; EOF is success, even with no data.
//! * `receiveany(max)`: whatever is buffered or arrives next, at most `max`.

use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};

use crate::conn::{Conn, RecvError};
use crate::receive_until::{ReceiveUntil, Step};

impl Conn {
    pub(crate) async fn receive_bytes(
        &self,
        n: usize,
        timeout: Duration,
    ) -> Result<Bytes, RecvError> {
        let step = |buf: &mut BytesMut, _eof: bool| {
            // `receive(0)` returns "" once the socket checks pass.
            (buf.len() >= n).then(|| buf.split_to(n).freeze())
        };
        self.read_op(timeout, step, take_all).await
    }

    pub(crate) async fn receive_line(&self, timeout: Duration) -> Result<Bytes, RecvError> {
        let mut scanned = 0;
        let step = move |buf: &mut BytesMut, _eof: bool| take_line(buf, &mut scanned);
        self.read_op(timeout, step, |buf| strip_cr(buf.split()))
            .await
    }

    pub(crate) async fn receive_all(&self, timeout: Duration) -> Result<Bytes, RecvError> {
        let step = |buf: &mut BytesMut, eof: bool| eof.then(|| buf.split().freeze());
        self.read_op(timeout, step, take_all).await
    }

    pub(crate) async fn receive_any(
        &self,
        max: usize,
        timeout: Duration,
    ) -> Result<Bytes, RecvError> {
        let step = |buf: &mut BytesMut, _eof: bool| {
            (!buf.is_empty()).then(|| buf.split_to(max.min(buf.len())).freeze())
        };
        self.read_op(timeout, step, take_all).await
    }

    /// `Ok(None)` is the `nil, nil` a sized iterator returns after the
    /// pattern.
    pub(crate) async fn receive_until(
        &self,
        it: &ReceiveUntil,
        size: usize,
        timeout: Duration,
    ) -> Result<Option<Bytes>, RecvError> {
        let step = |buf: &mut BytesMut, _eof: bool| {
            let (used, step) = it.matcher().borrow_mut().step(buf, size);
            buf.advance(used);
            match step {
                Step::Data(d) => Some(Some(d)),
                Step::End => Some(None),
                Step::NeedMore => None,
            }
        };
        let partial = |_buf: &mut BytesMut| it.matcher().borrow_mut().take_partial();
        self.read_op(timeout, step, partial).await
    }
}

fn take_all(buf: &mut BytesMut) -> Bytes {
    buf.split().freeze()
}

/// `scanned` remembers how far a previous look got, so a line arriving one
/// byte at a time is scanned once, not once per byte.
pub(crate) fn take_line(buf: &mut BytesMut, scanned: &mut usize) -> Option<Bytes> {
    match memchr::memchr(b'\n', &buf[*scanned..]) {
        Some(k) => {
            let mut line = buf.split_to(*scanned + k + 1);
            *scanned = 0;
            line.truncate(line.len() - 1);
            Some(strip_cr(line))
        }
        None => {
            *scanned = buf.len();
            None
        }
    }
}

pub(crate) fn strip_cr(data: BytesMut) -> Bytes {
    if memchr::memchr(b'\r', &data).is_none() {
        return data.freeze();
    }
    data.iter()
        .copied()
        .filter(|&c| c != b'\r')
        .collect::<Vec<u8>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_drops_every_cr() {
        let mut buf = BytesMut::from(&b"a\rb\r\nnext"[..]);
        let mut scanned = 0;
        assert_eq!(take_line(&mut buf, &mut scanned).unwrap(), &b"ab"[..]);
        assert_eq!(&buf[..], b"next");
    }

    #[test]
    fn line_scans_incrementally() {
        let mut buf = BytesMut::new();
        let mut scanned = 0;
        for &c in b"hello" {
            buf.extend_from_slice(&[c]);
            assert!(take_line(&mut buf, &mut scanned).is_none());
        }
        assert_eq!(scanned, 5);
        buf.extend_from_slice(b"\n");
        assert_eq!(take_line(&mut buf, &mut scanned).unwrap(), &b"hello"[..]);
        assert_eq!(scanned, 0);
    }

    #[test]
    fn empty_lines() {
        let mut buf = BytesMut::from(&b"\n\r\n"[..]);
        let mut scanned = 0;
        assert_eq!(take_line(&mut buf, &mut scanned).unwrap(), &b""[..]);
        assert_eq!(take_line(&mut buf, &mut scanned).unwrap(), &b""[..]);
        assert!(buf.is_empty());
    }
}
