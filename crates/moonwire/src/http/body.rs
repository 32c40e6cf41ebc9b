//! Request bodies on the wire: Content-Length and chunked framing, decoded
//! piece by piece so the caller decides where the bytes go (memory, a temp
//! file, a request socket, or nowhere when discarding).

use std::io;

use bytes::{Buf, Bytes, BytesMut};
use tokio::net::TcpStream;

#[derive(Debug)]
pub enum BodyError {
    /// 413: larger than client_max_body_size.
    TooLarge,
    /// 400: malformed chunked encoding.
    Bad,
    /// The client went away or timed out.
    Io(io::Error),
}

/// Read more bytes into `buf`; 0 means the peer closed.
pub async fn read_more(s: &TcpStream, buf: &mut BytesMut) -> io::Result<usize> {
    loop {
        if buf.capacity() - buf.len() < 2048 {
            buf.reserve(8192);
        }
        match s.try_read_buf(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => s.readable().await?,
            Err(e) => return Err(e),
        }
    }
}

pub async fn write_all(s: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match s.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => s.writable().await?,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Expecting a chunk-size line.
    Size,
    /// Inside chunk data with this many bytes left.
    Data(u64),
    /// Expecting the CRLF after chunk data.
    DataEnd,
    /// After the last chunk: trailer lines up to an empty one.
    Trailer,
}

/// Where a request body stands on the wire. Every state change happens
/// together with consuming bytes from the caller's buffer, so dropping a
/// read midway (cancelled future) leaves reader and buffer consistent.
#[derive(Debug, Clone)]
pub struct BodyReader {
    /// Content-Length bytes still to come; `None` for chunked.
    rest: Option<u64>,
    chunk: Chunk,
    done: bool,
    /// Body bytes decoded so far (for client_max_body_size on chunked bodies).
    pub seen: u64,
    max: u64,
}

impl BodyReader {
    /// `max` is client_max_body_size (0: unlimited). A Content-Length above
    /// it is the caller's 413 before any reading.
    pub fn new(content_length: Option<u64>, chunked: bool, max: u64) -> BodyReader {
        let rest = if chunked {
            None
        } else {
            Some(content_length.unwrap_or(0))
        };
        BodyReader {
            rest,
            chunk: Chunk::Size,
            done: rest == Some(0),
            seen: 0,
            max,
        }
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    pub fn is_chunked(&self) -> bool {
        self.rest.is_none()
    }

    /// Content-Length bytes not read yet (0 for chunked bodies).
    pub fn remaining(&self) -> u64 {
        self.rest.unwrap_or(0)
    }

    /// Decode body bytes already in `buf`, at most `limit`. `Ok(None)`:
    /// more input is needed (or the body is done, see [`is_done`]).
    pub fn decode(&mut self, buf: &mut BytesMut, limit: usize) -> Result<Option<Bytes>, BodyError> {
        if self.done || limit == 0 {
            return Ok(None);
        }
        if let Some(rest) = self.rest {
            if buf.is_empty() {
                return Ok(None);
            }
            let n = (rest.min(buf.len() as u64) as usize).min(limit);
            self.rest = Some(rest - n as u64);
            self.seen += n as u64;
            self.done = rest == n as u64;
            return Ok(Some(buf.split_to(n).freeze()));
        }
        loop {
            match self.chunk {
                Chunk::Size => {
                    let Some(end) = memchr::memchr(b'\n', buf) else {
                        if buf.len() > 4096 {
                            return Err(BodyError::Bad);
                        }
                        return Ok(None);
                    };
                    let size = chunk_size(&buf[..end])?;
                    buf.advance(end + 1);
                    if size == 0 {
                        self.chunk = Chunk::Trailer;
                        continue;
                    }
                    if self.max > 0 && self.seen + size > self.max {
                        return Err(BodyError::TooLarge);
                    }
                    self.chunk = Chunk::Data(size);
                }
                Chunk::Data(left) => {
                    if buf.is_empty() {
                        return Ok(None);
                    }
                    let n = (left.min(buf.len() as u64) as usize).min(limit);
                    self.chunk = if n as u64 == left {
                        Chunk::DataEnd
                    } else {
                        Chunk::Data(left - n as u64)
                    };
                    self.seen += n as u64;
                    return Ok(Some(buf.split_to(n).freeze()));
                }
                Chunk::DataEnd => {
                    if buf.len() < 2 {
                        if buf.first().is_some_and(|&b| b != b'\r' && b != b'\n') {
                            return Err(BodyError::Bad);
                        }
                        if buf.first() == Some(&b'\n') {
                            buf.advance(1);
                            self.chunk = Chunk::Size;
                            continue;
                        }
                        return Ok(None);
                    }
                    match &buf[..2] {
                        b"\r\n" => buf.advance(2),
                        [b'\n', _] => buf.advance(1),
                        _ => return Err(BodyError::Bad),
                    }
                    self.chunk = Chunk::Size;
                }
                Chunk::Trailer => {
                    let Some(end) = memchr::memchr(b'\n', buf) else {
                        if buf.len() > 4096 {
                            return Err(BodyError::Bad);
                        }
                        return Ok(None);
                    };
                    let empty = end == 0 || (end == 1 && buf[0] == b'\r');
                    buf.advance(end + 1);
                    if empty {
                        self.done = true;
                        return Ok(None);
                    }
                }
            }
        }
    }

    /// The next piece of the body, at most `limit` bytes, reading from the
    /// connection as needed; `Ok(None)` at the end of the body.
    ///
    /// # Cancel safety
    /// Cancel safe: bytes are only consumed from `buf` together with the
    /// state change that accounts for them.
    pub async fn next(
        &mut self,
        s: &TcpStream,
        buf: &mut BytesMut,
        limit: usize,
    ) -> Result<Option<Bytes>, BodyError> {
        loop {
            if let Some(b) = self.decode(buf, limit)? {
                return Ok(Some(b));
            }
            if self.done {
                return Ok(None);
            }
            if read_more(s, buf).await.map_err(BodyError::Io)? == 0 {
                return Err(BodyError::Io(io::ErrorKind::UnexpectedEof.into()));
            }
        }
    }
}

/// `1a;ext=1\r` -> 26
fn chunk_size(line: &[u8]) -> Result<u64, BodyError> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let hex_end = line
        .iter()
        .position(|b| !b.is_ascii_hexdigit())
        .unwrap_or(line.len());
    if hex_end == 0
        || hex_end > 15
        || (hex_end < line.len() && line[hex_end] != b';' && line[hex_end] != b' ')
    {
        return Err(BodyError::Bad);
    }
    let mut n = 0u64;
    for &c in &line[..hex_end] {
        n = n * 16 + (c as char).to_digit(16).unwrap_or(0) as u64;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(r: &mut BodyReader, input: &[u8], step: usize) -> Result<Vec<u8>, BodyError> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(step.max(1)) {
            buf.extend_from_slice(piece);
            while let Some(b) = r.decode(&mut buf, usize::MAX)? {
                out.extend_from_slice(&b);
            }
        }
        Ok(out)
    }

    #[test]
    fn chunked_under_every_split() {
        let wire = b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nTrailer: 1\r\n\r\nNEXT";
        for step in 1..wire.len() {
            let mut r = BodyReader::new(None, true, 0);
            let mut buf = BytesMut::new();
            let mut out = Vec::new();
            for piece in wire.chunks(step) {
                buf.extend_from_slice(piece);
                while let Some(b) = r.decode(&mut buf, usize::MAX).unwrap() {
                    out.extend_from_slice(&b);
                }
            }
            assert_eq!(out, b"hello world", "step {step}");
            assert!(r.is_done());
            assert_eq!(&buf[..], b"NEXT", "step {step}");
        }
    }

    #[test]
    fn content_length_keeps_the_pipelined_rest() {
        let mut r = BodyReader::new(Some(3), false, 0);
        let mut buf = BytesMut::from(&b"abcGET /"[..]);
        assert_eq!(&r.decode(&mut buf, 2).unwrap().unwrap()[..], b"ab");
        assert_eq!(&r.decode(&mut buf, 9).unwrap().unwrap()[..], b"c");
        assert!(r.is_done());
        assert_eq!(&buf[..], b"GET /");
    }

    #[test]
    fn chunked_errors() {
        let mut r = BodyReader::new(None, true, 0);
        assert!(matches!(
            decode_all(&mut r, b"zz\r\n", 4),
            Err(BodyError::Bad)
        ));
        let mut r = BodyReader::new(None, true, 0);
        assert!(matches!(
            decode_all(&mut r, b"3\r\nabcXX", 9),
            Err(BodyError::Bad)
        ));
        let mut r = BodyReader::new(None, true, 4);
        assert!(matches!(
            decode_all(&mut r, b"3\r\nabc\r\n3\r\ndef\r\n", 20),
            Err(BodyError::TooLarge)
        ));
    }
}
