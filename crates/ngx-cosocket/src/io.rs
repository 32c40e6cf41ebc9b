//! The byte transports under a cosocket, all usable through `&self` so one
//! reader and one writer can wait on the same socket at once.
//!
//! Plain streams use tokio's readiness API (`poll_read_ready` + `try_read`),
//! which keeps separate wakers for the read and the write direction. TLS
//! streams need `&mut` for every poll, so the stream sits in a `RefCell` that
//! is borrowed only inside a single `poll` call, never across an await.

use std::cell::RefCell;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BytesMut};
use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::client::TlsStream;

/// How much one receive asks the kernel (or rustls) for at most.
const READ_CHUNK: usize = 16 * 1024;

pub(crate) enum Plain {
    Tcp(TcpStream),
    Unix(UnixStream),
}

macro_rules! on_stream {
    ($plain:expr, $s:ident => $body:expr) => {
        match $plain {
            Plain::Tcp($s) => $body,
            Plain::Unix($s) => $body,
        }
    };
}

/// What a look at an idle pooled connection found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdleState {
    Quiet,
    /// The peer sent data, closed, or the socket has an error: the
    /// connection cannot be handed to a new user.
    Stale,
}

impl Plain {
    pub(crate) fn sock_ref(&self) -> SockRef<'_> {
        on_stream!(self, s => SockRef::from(s))
    }

    fn poll_read_with(
        &self,
        cx: &mut Context<'_>,
        mut read: impl FnMut(&Self) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            ready!(on_stream!(self, s => s.poll_read_ready(cx)))?;
            match read(self) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    pub(crate) fn poll_read_buf(
        &self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        buf.reserve(READ_CHUNK);
        self.poll_read_with(cx, |p| on_stream!(p, s => s.try_read_buf(buf)))
    }

    fn poll_read_slice(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.poll_read_with(cx, |p| on_stream!(p, s => s.try_read(buf)))
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            ready!(on_stream!(self, s => s.poll_write_ready(cx)))?;
            match on_stream!(self, s => s.try_write(data)) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                r => return Poll::Ready(r),
            }
        }
    }

    pub(crate) async fn readable(&self) -> io::Result<()> {
        on_stream!(self, s => s.readable().await)
    }

    /// Asks the kernel directly, so a close that tokio's reactor has not
    /// noticed yet is still seen.
    pub(crate) fn peek_now(&self) -> IdleState {
        idle_state(self.peek_raw())
    }

    /// Like [`peek_now`](Self::peek_now), but through tokio so a spurious
    /// wakeup clears the cached readiness instead of spinning the watcher.
    pub(crate) fn peek_tracked(&self) -> IdleState {
        let r = on_stream!(self, s => s.try_io(Interest::READABLE, || self.peek_raw()));
        idle_state(r)
    }

    fn peek_raw(&self) -> io::Result<usize> {
        let mut byte = [MaybeUninit::<u8>::uninit()];
        self.sock_ref().peek(&mut byte)
    }
}

fn idle_state(r: io::Result<usize>) -> IdleState {
    match r {
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => IdleState::Quiet,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => IdleState::Quiet,
        _ => IdleState::Stale,
    }
}

/// The plain stream as rustls sees it. It shares the stream with the pool's
/// idle watcher, and first replays any bytes received before the handshake
/// (a STARTTLS-style protocol may have buffered some).
pub(crate) struct SharedPlain {
    plain: Rc<Plain>,
    prefix: BytesMut,
}

impl SharedPlain {
    pub(crate) fn new(plain: Rc<Plain>, prefix: BytesMut) -> Self {
        SharedPlain { plain, prefix }
    }
}

impl AsyncRead for SharedPlain {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if !this.prefix.is_empty() {
            let n = this.prefix.len().min(buf.remaining());
            buf.put_slice(&this.prefix[..n]);
            this.prefix.advance(n);
            return Poll::Ready(Ok(()));
        }
        let n = ready!(this.plain.poll_read_slice(cx, buf.initialize_unfilled()))?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for SharedPlain {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.plain.poll_write(cx, data)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.plain.sock_ref().shutdown(std::net::Shutdown::Write))
    }
}

/// A connected transport: the plain stream, and TLS on top once
/// `sslhandshake` succeeded.
pub(crate) struct Io {
    plain: Rc<Plain>,
    tls: Option<RefCell<TlsStream<SharedPlain>>>,
}

impl Io {
    pub(crate) fn plain(plain: Plain) -> Self {
        Io {
            plain: Rc::new(plain),
            tls: None,
        }
    }

    pub(crate) fn tls(plain: Rc<Plain>, stream: TlsStream<SharedPlain>) -> Self {
        Io {
            plain,
            tls: Some(RefCell::new(stream)),
        }
    }

    pub(crate) fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    pub(crate) fn plain_stream(&self) -> &Rc<Plain> {
        &self.plain
    }

    /// Appends what arrives to `buf`; `Ok(0)` is end of stream.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
    ) -> Poll<io::Result<usize>> {
        let Some(tls) = &self.tls else {
            return self.plain.poll_read_buf(cx, buf);
        };
        let start = buf.len();
        buf.resize(start + READ_CHUNK, 0);
        let mut rb = ReadBuf::new(&mut buf[start..]);
        let r = Pin::new(&mut *tls.borrow_mut()).poll_read(cx, &mut rb);
        let n = rb.filled().len();
        buf.truncate(start + n);
        r.map_ok(|()| n)
    }

    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match &self.tls {
            None => self.plain.poll_write(cx, data),
            Some(tls) => Pin::new(&mut *tls.borrow_mut()).poll_write(cx, data),
        }
    }

    /// Whether rustls holds records or plaintext no receive has taken yet
    /// (data our buffer never saw, which `setkeepalive` must not ignore).
    pub(crate) fn tls_has_pending(&self) -> bool {
        let Some(tls) = &self.tls else { return false };
        let mut stream = tls.borrow_mut();
        let (_, session) = stream.get_mut();
        session
            .process_new_packets()
            .map_or(true, |s| s.plaintext_bytes_to_read() > 0)
    }

    /// TLS keeps encrypted records buffered until flushed.
    pub(crate) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.tls {
            None => Poll::Ready(Ok(())),
            Some(tls) => Pin::new(&mut *tls.borrow_mut()).poll_flush(cx),
        }
    }
}
