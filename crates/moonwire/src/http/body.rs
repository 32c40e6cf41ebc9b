//! Request bodies: Content-Length and chunked, with a size cap.

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

/// Read a whole body. `buf` holds bytes already received after the head and
/// keeps whatever follows the body (a pipelined request).
pub async fn read_body(
    s: &TcpStream,
    buf: &mut BytesMut,
    content_length: Option<u64>,
    chunked: bool,
    max: u64,
    timeout: std::time::Duration,
) -> Result<Bytes, BodyError> {
    let fut = async {
        if chunked {
            return read_chunked(s, buf, max).await;
        }
        let len = content_length.unwrap_or(0);
        if max > 0 && len > max {
            return Err(BodyError::TooLarge);
        }
        let len = len as usize;
        while buf.len() < len {
            if read_more(s, buf).await.map_err(BodyError::Io)? == 0 {
                return Err(BodyError::Io(io::ErrorKind::UnexpectedEof.into()));
            }
        }
        Ok(buf.split_to(len).freeze())
    };
    match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(BodyError::Io(io::ErrorKind::TimedOut.into())),
    }
}

async fn read_chunked(s: &TcpStream, buf: &mut BytesMut, max: u64) -> Result<Bytes, BodyError> {
    let mut body = BytesMut::new();
    loop {
        // chunk-size line
        let line_end = loop {
            if let Some(i) = memchr::memchr(b'\n', buf) {
                break i;
            }
            if buf.len() > 4096 {
                return Err(BodyError::Bad);
            }
            if read_more(s, buf).await.map_err(BodyError::Io)? == 0 {
                return Err(BodyError::Io(io::ErrorKind::UnexpectedEof.into()));
            }
        };
        let line = &buf[..line_end];
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
        let size = usize::from_str_radix(
            std::str::from_utf8(&line[..hex_end]).map_err(|_| BodyError::Bad)?,
            16,
        )
        .map_err(|_| BodyError::Bad)?;
        buf.advance(line_end + 1);
        if size == 0 {
            // trailers until an empty line
            loop {
                let end = loop {
                    if let Some(i) = memchr::memchr(b'\n', buf) {
                        break i;
                    }
                    if read_more(s, buf).await.map_err(BodyError::Io)? == 0 {
                        return Err(BodyError::Io(io::ErrorKind::UnexpectedEof.into()));
                    }
                };
                let empty = end == 0 || (end == 1 && buf[0] == b'\r');
                buf.advance(end + 1);
                if empty {
                    return Ok(body.freeze());
                }
            }
        }
        if max > 0 && (body.len() + size) as u64 > max {
            return Err(BodyError::TooLarge);
        }
        while buf.len() < size + 2 {
            if read_more(s, buf).await.map_err(BodyError::Io)? == 0 {
                return Err(BodyError::Io(io::ErrorKind::UnexpectedEof.into()));
            }
        }
        body.extend_from_slice(&buf[..size]);
        if &buf[size..size + 2] != b"\r\n" {
            return Err(BodyError::Bad);
        }
        buf.advance(size + 2);
    }
}
