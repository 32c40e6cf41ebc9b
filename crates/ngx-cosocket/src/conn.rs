//! One live connection: transport, receive buffer, and the flags that give
//! OpenResty's duplex rules (one reader and one writer at a time, reads and
//! writes failing independently).
//!
//! Every flag is a `Cell` and every `RefCell` borrow ends before an await,
//! so a future dropped at any await point (request aborted, light thread
//! killed) leaves the connection in a state the next call can use.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::net::{IpAddr, Ipv4Addr};
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::net::{TcpSocket, UnixStream};

use crate::error::SockError;
use crate::io::{IdleState, Io, Plain};
use crate::pool::Slot;
use crate::target::Target;

/// Error of a receive: `None` partial when the call was refused before it
/// started (OpenResty returns `nil, err`), `Some` when it failed midway
/// (`nil, err, partial`).
pub type RecvError = (SockError, Option<Bytes>);

/// Sets a busy flag for as long as it lives; dropping a cancelled future
/// drops the guard, so the flag never sticks.
pub(crate) struct Busy<'a>(&'a Cell<bool>);

impl<'a> Busy<'a> {
    pub(crate) fn enter(flag: &'a Cell<bool>, err: SockError) -> Result<Self, SockError> {
        if flag.replace(true) {
            return Err(err);
        }
        Ok(Busy(flag))
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.set(false);
    }
}

pub(crate) struct Conn {
    io: RefCell<Option<Rc<Io>>>,
    pub(crate) rbuf: RefCell<BytesMut>,
    /// The peer's FIN was read. Sticky, like nginx's `u->eof`.
    eof: Cell<bool>,
    read_closed: Cell<bool>,
    write_closed: Cell<bool>,
    reading: Cell<bool>,
    writing: Cell<bool>,
    pub(crate) handshaking: Cell<bool>,
    reused: Cell<u32>,
    /// This connection's place in a pool's connection count, if any.
    slot: RefCell<Option<Slot>>,
    peer: Target,
}

impl Conn {
    pub(crate) async fn connect(
        target: &Target,
        local: Option<IpAddr>,
        timeout: Duration,
    ) -> Result<Conn, SockError> {
        let plain = match tokio::time::timeout(timeout, open(target, local)).await {
            Err(_) => return Err(SockError::Timeout),
            Ok(r) => r?,
        };
        Ok(Conn::new(plain, target.clone()))
    }

    pub(crate) fn new(plain: Plain, peer: Target) -> Conn {
        Conn {
            io: RefCell::new(Some(Rc::new(Io::plain(plain)))),
            rbuf: RefCell::new(BytesMut::new()),
            eof: Cell::new(false),
            read_closed: Cell::new(false),
            write_closed: Cell::new(false),
            reading: Cell::new(false),
            writing: Cell::new(false),
            handshaking: Cell::new(false),
            reused: Cell::new(0),
            slot: RefCell::new(None),
            peer,
        }
    }

    pub(crate) fn peer(&self) -> &Target {
        &self.peer
    }

    pub(crate) fn peer_ip(&self) -> IpAddr {
        match &self.peer {
            Target::Inet(a) => a.ip(),
            Target::Unix(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        }
    }

    pub(crate) fn io(&self) -> Option<Rc<Io>> {
        self.io.borrow().clone()
    }

    pub(crate) fn set_io(&self, io: Io) {
        *self.io.borrow_mut() = Some(Rc::new(io));
    }

    /// Both halves usable: what `setkeepalive` and `sslhandshake` need.
    pub(crate) fn is_open(&self) -> bool {
        !self.read_closed.get() && !self.write_closed.get() && self.io.borrow().is_some()
    }

    /// Neither half usable: what makes `close()` say "closed".
    pub(crate) fn is_closed(&self) -> bool {
        self.read_closed.get() && self.write_closed.get()
    }

    pub(crate) fn saw_eof(&self) -> bool {
        self.eof.get()
    }

    pub(crate) fn has_unread(&self) -> bool {
        !self.rbuf.borrow().is_empty() || self.io().is_some_and(|io| io.tls_has_pending())
    }

    /// OpenResty's check order: connecting, reading, writing.
    pub(crate) fn check_idle(&self) -> Result<(), SockError> {
        if self.handshaking.get() {
            Err(SockError::BusyConnecting)
        } else if self.reading.get() {
            Err(SockError::BusyReading)
        } else if self.writing.get() {
            Err(SockError::BusyWriting)
        } else {
            Ok(())
        }
    }

    pub(crate) fn reused(&self) -> u32 {
        self.reused.get()
    }

    pub(crate) fn set_reused(&self, n: u32) {
        self.reused.set(n);
    }

    pub(crate) fn slot(&self) -> &RefCell<Option<Slot>> {
        &self.slot
    }

    pub(crate) fn peek_idle(&self) -> IdleState {
        match self.io() {
            Some(io) => io.plain_stream().peek_now(),
            None => IdleState::Stale,
        }
    }

    /// Closes both halves and gives up the pool slot.
    pub(crate) fn close(&self) {
        self.read_closed.set(true);
        self.write_closed.set(true);
        self.finish();
    }

    /// Once neither half is usable the descriptor goes, and so does the
    /// pool slot, which may let a queued connect proceed.
    fn finish(&self) {
        if !self.is_closed() {
            return;
        }
        self.rbuf.borrow_mut().clear();
        let io = self.io.borrow_mut().take();
        let slot = self.slot.borrow_mut().take();
        drop(io);
        drop(slot);
    }

    /// Runs one receive. `step` looks at the buffered bytes (and whether the
    /// stream ended) and returns the result once it has one; `partial`
    /// extracts what an error returns. Data stays in `rbuf` until `step`
    /// takes it, so a cancelled receive loses nothing.
    pub(crate) async fn read_op<T>(
        &self,
        timeout: Duration,
        mut step: impl FnMut(&mut BytesMut, bool) -> Option<T>,
        partial: impl FnOnce(&mut BytesMut) -> Bytes,
    ) -> Result<T, RecvError> {
        if self.read_closed.get() {
            return Err((SockError::Closed, None));
        }
        if self.handshaking.get() {
            return Err((SockError::BusyConnecting, None));
        }
        let _busy = Busy::enter(&self.reading, SockError::BusyReading).map_err(|e| (e, None))?;
        let Some(io) = self.io() else {
            return Err((SockError::Closed, None));
        };
        loop {
            let done = {
                let mut buf = self.rbuf.borrow_mut();
                step(&mut buf, self.eof.get())
            };
            if let Some(v) = done {
                return Ok(v);
            }
            if self.eof.get() {
                return Err(self.read_failed(SockError::Closed, partial));
            }
            let read = poll_fn(|cx| io.poll_read(cx, &mut self.rbuf.borrow_mut()));
            match tokio::time::timeout(timeout, read).await {
                Err(_) => return Err(self.read_failed(SockError::Timeout, partial)),
                Ok(Err(e)) => return Err(self.read_failed(e.into(), partial)),
                Ok(Ok(0)) => self.eof.set(true),
                Ok(Ok(_)) => {}
            }
        }
    }

    /// A timeout leaves the read half usable; anything else closes it, as
    /// `ngx_http_lua_socket_read_error_retval_handler` does.
    fn read_failed(
        &self,
        err: SockError,
        partial: impl FnOnce(&mut BytesMut) -> Bytes,
    ) -> RecvError {
        let data = partial(&mut self.rbuf.borrow_mut());
        if !err.is_timeout() {
            self.read_closed.set(true);
            self.rbuf.borrow_mut().clear();
            self.finish();
        }
        (err, Some(data))
    }

    /// Sends all of `data` or fails. Any failure, a timeout included, closes
    /// the write half (lua-nginx-module finalizes the write part on every
    /// send error).
    pub(crate) async fn send(&self, data: &[u8], timeout: Duration) -> Result<usize, SockError> {
        if self.write_closed.get() {
            return Err(SockError::Closed);
        }
        if self.handshaking.get() {
            return Err(SockError::BusyConnecting);
        }
        let _busy = Busy::enter(&self.writing, SockError::BusyWriting)?;
        let Some(io) = self.io() else {
            return Err(SockError::Closed);
        };
        if data.is_empty() {
            return Ok(0);
        }
        // If this future is dropped after part of the data went out, the
        // byte stream is torn: nothing more may be sent on it.
        let torn = TornOnDrop {
            conn: self,
            armed: Cell::new(io.is_tls()),
        };
        let mut sent = 0;
        while sent < data.len() {
            let write = poll_fn(|cx| io.poll_write(cx, &data[sent..]));
            match tokio::time::timeout(timeout, write).await {
                Err(_) => return Err(self.write_failed(SockError::Timeout, torn)),
                Ok(Err(e)) => return Err(self.write_failed(e.into(), torn)),
                Ok(Ok(0)) => return Err(self.write_failed(SockError::Closed, torn)),
                Ok(Ok(n)) => sent += n,
            }
            torn.armed.set(true);
        }
        match tokio::time::timeout(timeout, poll_fn(|cx| io.poll_flush(cx))).await {
            Err(_) => return Err(self.write_failed(SockError::Timeout, torn)),
            Ok(Err(e)) => return Err(self.write_failed(e.into(), torn)),
            Ok(Ok(())) => {}
        }
        torn.disarm();
        Ok(data.len())
    }

    fn write_failed(&self, err: SockError, torn: TornOnDrop<'_>) -> SockError {
        torn.disarm();
        self.write_closed.set(true);
        self.finish();
        err
    }
}

struct TornOnDrop<'a> {
    conn: &'a Conn,
    armed: Cell<bool>,
}

impl TornOnDrop<'_> {
    fn disarm(self) {
        self.armed.set(false);
    }
}

impl Drop for TornOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed.get() {
            self.conn.write_closed.set(true);
            self.conn.finish();
        }
    }
}

async fn open(target: &Target, local: Option<IpAddr>) -> Result<Plain, SockError> {
    match target {
        Target::Inet(addr) => {
            let sock = if addr.is_ipv4() {
                TcpSocket::new_v4()?
            } else {
                TcpSocket::new_v6()?
            };
            if let Some(ip) = local {
                sock.bind((ip, 0).into())?;
            }
            let stream = sock.connect(*addr).await?;
            // nginx's `tcp_nodelay on` default applies to cosockets too.
            stream.set_nodelay(true)?;
            Ok(Plain::Tcp(stream))
        }
        Target::Unix(path) => Ok(Plain::Unix(UnixStream::connect(path).await?)),
    }
}
