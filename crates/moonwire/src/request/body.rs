//! The request body, read only when something asks for it, as nginx does:
//! `ngx.req.read_body`, `lua_need_request_body`, or a request socket. A body
//! nobody read is discarded (read and dropped) after the response, so the
//! next request on a kept-alive connection starts where it should.
//!
//! Bodies larger than `client_body_buffer_size` (or every body with
//! `client_body_in_file_only`) go to a temp file under
//! `client_body_temp_path`, deleted when the request ends.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};

use super::Req;
use crate::http::{self, BodyError, BodyReader};
use crate::log::Level;

/// A body that was read (or set by Lua).
#[derive(Debug)]
pub enum BodyData {
    Mem(Bytes),
    File(BodyFile),
}

/// A body in a file: one nginx wrote, or one Lua named with `set_body_file`.
#[derive(Debug)]
pub struct BodyFile {
    pub path: PathBuf,
    pub len: u64,
    /// Delete the file when the request ends.
    pub clean: bool,
}

impl Drop for BodyFile {
    fn drop(&mut self) {
        if self.clean {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Nobody asked for the body yet.
    Unread,
    /// A read is under way (or was cut short: the bytes it took are gone).
    Reading,
    /// `data` holds what was read (`None`: there was no body).
    Read,
    /// `ngx.req.discard_body`: dropped at the end of the request.
    Discarded,
    /// `ngx.req.socket()` streams the body to Lua.
    Socket,
    /// `ngx.req.socket(true)` owns the connection; it is not reused.
    Raw,
}

/// `ngx.req.init_body` .. `finish_body` in progress.
#[derive(Debug)]
struct Building {
    mem: Vec<u8>,
    cap: usize,
    file: Option<(std::fs::File, BodyFile)>,
}

#[derive(Debug)]
pub struct Body {
    pub state: State,
    pub data: Option<BodyData>,
    /// The connection's read buffer while the request runs: the body's first
    /// bytes and whatever the client pipelined after it. Given back at the end.
    buf: BytesMut,
    wire: BodyReader,
    /// `100 Continue` was sent (or is not wanted).
    continued: bool,
    /// Body bytes taken off the wire (for `$request_length`).
    pub received: u64,
    building: Option<Building>,
}

impl Body {
    pub fn new(content_length: Option<u64>, chunked: bool, max: u64) -> Body {
        Body {
            state: State::Unread,
            data: None,
            buf: BytesMut::new(),
            wire: BodyReader::new(content_length, chunked, max),
            continued: false,
            received: 0,
            building: None,
        }
    }

    /// A body that is already read (`None`: empty), with nothing on the wire:
    /// what subrequests get.
    pub fn read(data: Option<Bytes>) -> Body {
        let mut b = Body::new(Some(0), false, 0);
        b.state = State::Read;
        b.continued = true;
        b.data = data.filter(|d| !d.is_empty()).map(BodyData::Mem);
        b
    }

    /// The body in memory, if it was read into memory.
    pub fn mem(&self) -> Option<&Bytes> {
        match &self.data {
            Some(BodyData::Mem(b)) => Some(b),
            _ => None,
        }
    }

    pub fn file(&self) -> Option<&BodyFile> {
        match &self.data {
            Some(BodyData::File(f)) => Some(f),
            _ => None,
        }
    }

    /// Whether a body is still on the wire.
    pub fn pending(&self) -> bool {
        !self.wire.is_done()
    }
}

/// Move the connection buffer into the request (start of the request).
pub fn attach(req: &Req, buf: &mut BytesMut) {
    let mut b = req.body.borrow_mut();
    b.buf = std::mem::take(buf);
    b.continued = !expects_continue(req);
}

fn expects_continue(req: &Req) -> bool {
    req.head.version == 11
        && req
            .head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"))
}

fn timeout(req: &Req) -> Duration {
    Duration::from_millis(req.loc.client_body_timeout_ms.max(1))
}

/// The next piece of the body (at most `limit` bytes) from the buffer or
/// the connection; `None` at its end.
///
/// # Cancel safety
/// Cancel safe: no borrow is held across an await and bytes leave the
/// buffer only together with the reader state that accounts for them.
pub async fn next_piece(req: &Req, limit: usize) -> Result<Option<Bytes>, BodyError> {
    send_continue(req).await?;
    loop {
        {
            let b = &mut *req.body.borrow_mut();
            if let Some(piece) = b.wire.decode(&mut b.buf, limit)? {
                b.received += piece.len() as u64;
                return Ok(Some(piece));
            }
            if b.wire.is_done() {
                return Ok(None);
            }
        }
        let stream = &req.conn.stream;
        match tokio::time::timeout(timeout(req), stream.readable()).await {
            Err(_) => return Err(BodyError::Io(io::ErrorKind::TimedOut.into())),
            Ok(r) => r.map_err(BodyError::Io)?,
        }
        let r = {
            let mut b = req.body.borrow_mut();
            if b.buf.capacity() - b.buf.len() < 2048 {
                b.buf.reserve(16 * 1024);
            }
            stream.try_read_buf(&mut b.buf)
        };
        match r {
            Ok(0) => return Err(BodyError::Io(io::ErrorKind::UnexpectedEof.into())),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => return Err(BodyError::Io(e)),
        }
    }
}

/// `Expect: 100-continue`: the client waits for this before sending the body.
async fn send_continue(req: &Req) -> Result<(), BodyError> {
    if req.body.borrow().continued {
        return Ok(());
    }
    req.body.borrow_mut().continued = true;
    if req.resp.borrow().headers_sent {
        return Ok(());
    }
    let w = http::write_all(&req.conn.stream, b"HTTP/1.1 100 Continue\r\n\r\n");
    match tokio::time::timeout(timeout(req), w).await {
        Ok(r) => r.map_err(BodyError::Io),
        Err(_) => Err(BodyError::Io(io::ErrorKind::TimedOut.into())),
    }
}

/// Where a body being read goes: memory up to the buffer size, then a file.
struct Sink {
    mem: Vec<u8>,
    cap: usize,
    file: Option<(std::fs::File, BodyFile)>,
}

impl Sink {
    fn push(&mut self, req: &Req, piece: &[u8]) -> io::Result<()> {
        if self.file.is_none() && self.mem.len() + piece.len() > self.cap {
            self.file = Some(temp_file(req)?);
        }
        match &mut self.file {
            Some((f, bf)) => {
                if !self.mem.is_empty() {
                    f.write_all(&self.mem)?;
                    bf.len += self.mem.len() as u64;
                    self.mem = Vec::new();
                }
                f.write_all(piece)?;
                bf.len += piece.len() as u64;
            }
            None => self.mem.extend_from_slice(piece),
        }
        Ok(())
    }

    fn finish(self) -> Option<BodyData> {
        match self.file {
            Some((_, bf)) => Some(BodyData::File(bf)),
            None if self.mem.is_empty() => None,
            None => Some(BodyData::Mem(Bytes::from(self.mem))),
        }
    }
}

static TEMP_NUMBER: AtomicU64 = AtomicU64::new(0);

/// A new file under client_body_temp_path, named like nginx's (`0000000001`).
fn temp_file(req: &Req) -> io::Result<(std::fs::File, BodyFile)> {
    let dir: &Path = &req.loc.client_body_temp_path;
    if TEMP_NUMBER.load(Ordering::Relaxed) == 0 {
        // nginx starts from a per-process number too, so restarts rarely collide
        let _ = TEMP_NUMBER.compare_exchange(
            0,
            u64::from(std::process::id()) * 1000 % 1_000_000_000 + 1,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
    }
    let mut tried_mkdir = false;
    loop {
        let n = TEMP_NUMBER.fetch_add(1, Ordering::Relaxed) % 10_000_000_000;
        let path = dir.join(format!("{n:010}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => {
                let bf = BodyFile {
                    path,
                    len: 0,
                    clean: true,
                };
                return Ok((f, bf));
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !tried_mkdir => {
                tried_mkdir = true;
                std::fs::create_dir_all(dir)?;
            }
            Err(e) => {
                req.log(
                    Level::Crit,
                    &format!("open() \"{}\" failed ({})", path.display(), os_err(&e)),
                );
                return Err(e);
            }
        }
    }
}

fn os_err(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => format!("{n}: {}", crate::log::strerror(e)),
        None => e.to_string(),
    }
}

/// The common case without waiting: no body, or all of it already came
/// with the request head (then it stays in memory, sharing the connection
/// buffer, as nginx keeps a pre-read body). False: `read_body` must wait.
pub fn read_preread(req: &Req) -> bool {
    let b = &mut *req.body.borrow_mut();
    if b.state != State::Unread {
        return true;
    }
    let len = match req.head.content_length {
        None if !req.head.chunked => 0,
        None => return false,
        Some(l) => l,
    };
    if len == 0 {
        b.state = State::Read;
        return true;
    }
    if !b.continued || req.loc.client_body_in_file_only || (b.buf.len() as u64) < len {
        return false;
    }
    match b.wire.decode(&mut b.buf, usize::MAX) {
        Ok(Some(piece)) => {
            b.received += piece.len() as u64;
            b.data = Some(BodyData::Mem(piece));
        }
        Ok(None) => b.data = None,
        Err(_) => return false,
    }
    b.state = State::Read;
    true
}

/// Read the whole body (once; later calls return at once). An error is the
/// status nginx finalizes the request with (413, 400, 408), already logged.
pub async fn read_body(req: &Req) -> Result<(), u16> {
    if read_preread(req) {
        return Ok(());
    }
    req.body.borrow_mut().state = State::Reading;
    // a cut-short read has lost the bytes it took: what is left gets discarded
    struct Cut<'a>(&'a Req, bool);
    impl Drop for Cut<'_> {
        fn drop(&mut self) {
            if !self.1 {
                self.0.body.borrow_mut().state = State::Discarded;
            }
        }
    }
    let mut guard = Cut(req, false);
    let in_file = req.loc.client_body_in_file_only;
    let mut sink = Sink {
        mem: Vec::new(),
        cap: if in_file {
            0
        } else {
            req.loc.client_body_buffer_size as usize
        },
        file: None,
    };
    let preread = {
        let b = req.body.borrow();
        req.head
            .content_length
            .is_some_and(|l| b.buf.len() as u64 >= l)
    };
    if in_file {
        sink.file = Some(temp_file(req).map_err(|_| 500u16)?);
    } else if preread {
        // nginx keeps a body that came whole with the request head in memory,
        // whatever its size
        sink.cap = usize::MAX;
    } else if req.head.content_length.is_some_and(|l| l > sink.cap as u64) {
        // nginx writes a body that cannot fit the buffer to the file from the start
        sink.file = Some(temp_file(req).map_err(|_| 500u16)?);
    }
    if sink.file.is_none() {
        if let Some(l) = req.head.content_length {
            sink.mem.reserve_exact(l as usize);
        }
    }
    loop {
        match next_piece(req, usize::MAX).await {
            Ok(Some(piece)) => {
                if let Err(e) = sink.push(req, &piece) {
                    req.log(
                        Level::Crit,
                        &format!("write() to a temp file failed ({})", os_err(&e)),
                    );
                    return Err(500);
                }
            }
            Ok(None) => break,
            Err(e) => return Err(body_error(req, e)),
        }
    }
    guard.1 = true;
    let mut b = req.body.borrow_mut();
    b.data = sink.finish();
    b.state = State::Read;
    Ok(())
}

/// Log a body read failure as nginx does; the status to finalize with.
pub fn body_error(req: &Req, e: BodyError) -> u16 {
    match e {
        BodyError::TooLarge => {
            let seen = req.body.borrow().wire.seen;
            req.log(
                Level::Error,
                &format!("client intended to send too large chunked body: {seen}+ bytes"),
            );
            413
        }
        BodyError::Bad => {
            req.log(Level::Info, "client sent invalid chunked body");
            400
        }
        BodyError::Io(e) if e.kind() == io::ErrorKind::TimedOut => {
            req.log(
                Level::Info,
                "client timed out (110: Connection timed out) while reading client request body",
            );
            408
        }
        BodyError::Io(_) => {
            req.log(
                Level::Info,
                "client prematurely closed connection while reading client request body",
            );
            // nginx's 400 here is never seen: the client is gone
            499
        }
    }
}

/// `ngx.req.discard_body`: the body is dropped after the response.
pub fn discard(req: &Req) {
    let mut b = req.body.borrow_mut();
    if b.state == State::Unread {
        b.state = State::Discarded;
    }
}

/// End of the request: drop a body nobody read (bounded by
/// client_body_timeout per read and client_max_body_size in all), give the
/// connection buffer back, and say whether the connection can serve another
/// request. A connection that cannot is closed lingering, as nginx does, so
/// the client reads the response before the close.
pub async fn finish(req: &Req, keep: bool, buf: &mut BytesMut) -> bool {
    let (state, pending, continued) = {
        let b = req.body.borrow();
        (b.state, b.pending(), b.continued)
    };
    if state == State::Raw {
        return false;
    }
    // a read cut short lost bytes of the body: the stream is out of step
    let mut keep = keep && state != State::Reading;
    if keep && pending {
        if !continued {
            // the client waits for 100 Continue we never sent: it may never send the body
            keep = false;
        } else {
            let max = req.loc.client_max_body_size;
            let mut dropped = 0u64;
            loop {
                match next_piece(req, usize::MAX).await {
                    Ok(Some(p)) => {
                        dropped += p.len() as u64;
                        if max > 0 && dropped > max {
                            keep = false;
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        keep = false;
                        break;
                    }
                }
            }
        }
    }
    let rest = std::mem::take(&mut req.body.borrow_mut().buf);
    if keep {
        *buf = rest;
    } else if pending || !rest.is_empty() {
        linger(req).await;
    }
    keep
}

/// nginx's lingering close: stop sending, then read and drop what the
/// client still sends for a while, so closing with unread input does not
/// reset the connection under the response.
async fn linger(req: &Req) {
    let s = &req.conn.stream;
    let _ = socket2::SockRef::from(&**s).shutdown(std::net::Shutdown::Write);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut scratch = [0u8; 4096];
    loop {
        let wait = tokio::time::timeout_at(
            deadline.min(tokio::time::Instant::now() + Duration::from_secs(5)),
            s.readable(),
        );
        match wait.await {
            Ok(Ok(())) => match s.try_read(&mut scratch) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            },
            _ => return,
        }
    }
}

/// `ngx.req.socket(true)`: hand the rest of the connection's input to the
/// raw socket; the connection is not reused after this request.
pub fn take_raw(req: &Req) -> BytesMut {
    let mut b = req.body.borrow_mut();
    b.state = State::Raw;
    std::mem::take(&mut b.buf)
}

/// `ngx.req.set_body_data` / `set_body_file`: replace the body.
pub fn set_data(req: &Req, data: Option<BodyData>) {
    let mut b = req.body.borrow_mut();
    b.building = None;
    b.data = data;
}

/// `ngx.req.init_body(size)`.
pub fn init(req: &Req, cap: usize) {
    let mut b = req.body.borrow_mut();
    b.data = None;
    b.building = Some(Building {
        mem: Vec::new(),
        cap,
        file: None,
    });
}

/// `ngx.req.append_body(data)`: false when init_body was not called.
pub fn append(req: &Req, data: &[u8]) -> Result<bool, String> {
    let Some(mut bld) = req.body.borrow_mut().building.take() else {
        return Ok(false);
    };
    let mut sink = Sink {
        mem: std::mem::take(&mut bld.mem),
        cap: bld.cap,
        file: bld.file.take(),
    };
    let r = sink.push(req, data);
    bld.mem = sink.mem;
    bld.file = sink.file;
    req.body.borrow_mut().building = Some(bld);
    r.map(|()| true)
        .map_err(|_| "fail to write file".to_string())
}

/// `ngx.req.finish_body()`: false when init_body was not called.
pub fn finish_building(req: &Req) -> bool {
    let mut b = req.body.borrow_mut();
    let Some(bld) = b.building.take() else {
        return false;
    };
    let sink = Sink {
        mem: bld.mem,
        cap: bld.cap,
        file: bld.file,
    };
    b.data = sink.finish();
    true
}

/// The body's length now, for the Content-Length the body mutations set.
pub fn data_len(req: &Req) -> u64 {
    match &req.body.borrow().data {
        Some(BodyData::Mem(m)) => m.len() as u64,
        Some(BodyData::File(f)) => f.len,
        None => 0,
    }
}

/// Whether `init_body` was called and `finish_body` not yet.
pub fn building(req: &Req) -> bool {
    req.body.borrow().building.is_some()
}
