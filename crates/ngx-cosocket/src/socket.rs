//! [`TcpSock`]: the object behind one `ngx.socket.tcp()`, minus Lua.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::net::IpAddr;
use std::rc::Rc;
use std::str::FromStr;

use bytes::Bytes;

use crate::conn::{Busy, Conn, RecvError};
use crate::error::SockError;
use crate::pool::{Grant, Pool, PoolOptions, Pools};
use crate::receive_until::ReceiveUntil;
use crate::target::{Target, Timeouts};
use crate::tls::TlsContext;

/// A cosocket. Every method takes `&self`: one light thread may receive
/// while another sends; a second concurrent receive gets
/// `socket busy reading`, a second send `socket busy writing`.
///
/// # Cancel safety
/// Dropping any returned future leaves the socket consistent: busy flags
/// are released; a cancelled receive keeps the data it had buffered for the
/// next receive; a send cancelled after bytes went out closes the write half
/// (the byte stream is torn); a cancelled TLS handshake closes the
/// connection; a cancelled connect holds nothing.
pub struct TcpSock {
    conn: RefCell<Option<Rc<Conn>>>,
    defaults: Timeouts,
    timeouts: Cell<Timeouts>,
    local: Cell<Option<IpAddr>>,
    connecting: Cell<bool>,
    pool_key: RefCell<Option<Rc<str>>>,
}

/// `setoption` / `getoption` names (lua-resty-core `socket.lua`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SockOption {
    KeepAlive,
    ReuseAddr,
    TcpNoDelay,
    SndBuf,
    RcvBuf,
}

impl FromStr for SockOption {
    type Err = SockError;

    fn from_str(s: &str) -> Result<Self, SockError> {
        Ok(match s {
            "keepalive" => SockOption::KeepAlive,
            "reuseaddr" => SockOption::ReuseAddr,
            "tcp-nodelay" => SockOption::TcpNoDelay,
            "sndbuf" => SockOption::SndBuf,
            "rcvbuf" => SockOption::RcvBuf,
            other => return Err(SockError::UnsupportedOption(other.to_owned())),
        })
    }
}

impl Default for TcpSock {
    fn default() -> Self {
        TcpSock::new(Timeouts::default())
    }
}

impl TcpSock {
    /// `defaults` are the `lua_socket_*_timeout` values that `settimeout(0)`
    /// falls back to.
    pub fn new(defaults: Timeouts) -> TcpSock {
        TcpSock {
            conn: RefCell::new(None),
            defaults,
            timeouts: Cell::new(defaults),
            local: Cell::new(None),
            connecting: Cell::new(false),
            pool_key: RefCell::new(None),
        }
    }

    /// `settimeout(ms)`: all three timeouts; 0 restores the defaults.
    pub fn settimeout(&self, ms: i64) -> Result<(), SockError> {
        self.settimeouts(ms, ms, ms)
    }

    /// `settimeouts(connect, send, read)`, each in ms as for `settimeout`.
    pub fn settimeouts(&self, connect: i64, send: i64, read: i64) -> Result<(), SockError> {
        let d = self.defaults;
        self.timeouts.set(Timeouts {
            connect: Timeouts::pick(connect, d.connect)?,
            send: Timeouts::pick(send, d.send)?,
            read: Timeouts::pick(read, d.read)?,
        });
        Ok(())
    }

    pub fn timeouts(&self) -> Timeouts {
        self.timeouts.get()
    }

    /// `bind(ip)`: the local address of later TCP connects.
    pub fn bind(&self, ip: IpAddr) {
        self.local.set(Some(ip));
    }

    /// Whether a connection is attached with at least one half open.
    pub fn is_connected(&self) -> bool {
        self.conn.borrow().as_ref().is_some_and(|c| !c.is_closed())
    }

    pub fn peer(&self) -> Option<Target> {
        self.conn.borrow().as_ref().map(|c| c.peer().clone())
    }

    pub fn is_tls(&self) -> bool {
        let io = self.conn.borrow().as_ref().and_then(|c| c.io());
        io.is_some_and(|io| io.is_tls())
    }

    fn conn(&self) -> Result<Rc<Conn>, SockError> {
        if self.connecting.get() {
            return Err(SockError::BusyConnecting);
        }
        self.conn.borrow().clone().ok_or(SockError::Closed)
    }

    /// `connect(host, port, {pool, pool_size, backlog})`. `key` is the pool
    /// key (see [`Target::default_pool_key`]). The pool is consulted first;
    /// only when no idle connection is reused does `resolve` run, so a
    /// reused connection costs no DNS lookup. A connection already attached
    /// is closed first (not pooled), as OpenResty does on reconnect.
    ///
    /// # Errors
    /// Busy errors if another light thread uses the socket; pool errors
    /// (`too many waiting connect operations`, `timeout` in the queue);
    /// whatever `resolve` returns; connect errors (`connection refused`,
    /// `timeout`, ...).
    pub async fn connect<F, Fut>(
        &self,
        pools: &Pools,
        key: &str,
        opts: PoolOptions,
        resolve: F,
    ) -> Result<(), SockError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Target, SockError>>,
    {
        if opts.size == Some(0) {
            return Err(SockError::BadPoolSize(0));
        }
        let create = (opts.size.is_some() || opts.backlog.is_some())
            .then(|| (opts.size.unwrap_or(pools.config().size), opts.backlog));
        self.detach_for_connect()?;
        let _busy = Busy::enter(&self.connecting, SockError::BusyConnecting)?;
        *self.pool_key.borrow_mut() = Some(key.into());
        let pool = pools.get(key, create);
        self.connect_via(pool, resolve).await
    }

    /// Connects straight to `target`, bypassing any pool; the pool key for a
    /// later `set_keepalive` is the target's display form.
    pub async fn connect_to(&self, target: &Target) -> Result<(), SockError> {
        self.detach_for_connect()?;
        let _busy = Busy::enter(&self.connecting, SockError::BusyConnecting)?;
        *self.pool_key.borrow_mut() = Some(target.to_string().into());
        let target = target.clone();
        self.connect_via(None, || async { Ok(target) }).await
    }

    fn detach_for_connect(&self) -> Result<(), SockError> {
        if self.connecting.get() {
            return Err(SockError::BusyConnecting);
        }
        let old = self.conn.borrow().clone();
        if let Some(old) = old {
            old.check_idle()?;
            self.conn.borrow_mut().take();
            old.close();
        }
        Ok(())
    }

    async fn connect_via<F, Fut>(&self, pool: Option<Rc<Pool>>, resolve: F) -> Result<(), SockError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Target, SockError>>,
    {
        let t = self.timeouts.get();
        let slot = match &pool {
            None => None,
            Some(pool) => match pool.acquire(t.connect).await? {
                Grant::Reuse(conn) => {
                    conn.set_reused(conn.reused() + 1);
                    *self.conn.borrow_mut() = Some(conn);
                    return Ok(());
                }
                Grant::Connect(slot) => Some(slot),
            },
        };
        let target = resolve().await?;
        let conn = Conn::connect(&target, self.local.get(), t.connect).await?;
        *conn.slot().borrow_mut() = slot;
        *self.conn.borrow_mut() = Some(Rc::new(conn));
        Ok(())
    }

    /// `sslhandshake(reused_session?, server_name?, ssl_verify?)`. A socket
    /// already speaking TLS (e.g. reused from a pool) succeeds at once.
    /// rustls resumes sessions by itself, so no session object is returned.
    pub async fn ssl_handshake(
        &self,
        tls: &TlsContext,
        server_name: Option<&str>,
        verify: bool,
    ) -> Result<(), SockError> {
        let conn = self.conn()?;
        conn.ssl_handshake(tls, server_name, verify, self.timeouts.get().connect)
            .await
    }

    /// `send(data)`: all bytes, or an error that closes the write half.
    pub async fn send(&self, data: &[u8]) -> Result<usize, SockError> {
        self.conn()?.send(data, self.timeouts.get().send).await
    }

    /// `receive(n)`.
    pub async fn receive_bytes(&self, n: usize) -> Result<Bytes, RecvError> {
        let conn = self.conn().map_err(|e| (e, None))?;
        conn.receive_bytes(n, self.timeouts.get().read).await
    }

    /// `receive()` / `receive("*l")`.
    pub async fn receive_line(&self) -> Result<Bytes, RecvError> {
        let conn = self.conn().map_err(|e| (e, None))?;
        conn.receive_line(self.timeouts.get().read).await
    }

    /// `receive("*a")`.
    pub async fn receive_all(&self) -> Result<Bytes, RecvError> {
        let conn = self.conn().map_err(|e| (e, None))?;
        conn.receive_all(self.timeouts.get().read).await
    }

    /// `receiveany(max)`; `max` must be positive (the binding raises
    /// `bad max argument` otherwise).
    pub async fn receive_any(&self, max: usize) -> Result<Bytes, RecvError> {
        let conn = self.conn().map_err(|e| (e, None))?;
        conn.receive_any(max.max(1), self.timeouts.get().read).await
    }

    /// One call of a `receiveuntil` iterator; `size` 0 means no size
    /// argument. `Ok(None)` is the `nil, nil` that ends a sized loop.
    pub async fn receive_until(
        &self,
        it: &ReceiveUntil,
        size: usize,
    ) -> Result<Option<Bytes>, RecvError> {
        let conn = self.conn().map_err(|e| (e, None))?;
        conn.receive_until(it, size, self.timeouts.get().read).await
    }

    /// `close()`.
    pub fn close(&self) -> Result<(), SockError> {
        let conn = self.conn()?;
        if conn.is_closed() {
            return Err(SockError::Closed);
        }
        conn.check_idle()?;
        self.conn.borrow_mut().take();
        conn.close();
        Ok(())
    }

    /// `getreusedtimes()`.
    pub fn reused_times(&self) -> Result<u32, SockError> {
        let conn = self.conn.borrow().clone().ok_or(SockError::Closed)?;
        if conn.is_closed() {
            return Err(SockError::Closed);
        }
        Ok(conn.reused())
    }

    /// `setkeepalive(timeout?, size?)`: parks the connection in the pool of
    /// this socket's key and detaches it. `timeout_ms`: `None` for
    /// `lua_socket_keepalive_timeout`, `Some(0)` for never. `size` only
    /// matters when the pool does not exist yet.
    ///
    /// # Errors
    /// `closed`; busy errors; `unread data in buffer` (the socket stays
    /// usable); `invalid connection` after EOF; `connection in dubious state`
    /// when the peer sent data or closed meanwhile (the connection is closed).
    pub fn set_keepalive(
        &self,
        pools: &Pools,
        timeout_ms: Option<u64>,
        size: Option<usize>,
    ) -> Result<(), SockError> {
        let conn = self.conn()?;
        if !conn.is_open() {
            return Err(SockError::Closed);
        }
        conn.check_idle()?;
        if conn.has_unread() {
            return Err(SockError::UnreadData);
        }
        if conn.saw_eof() {
            return Err(SockError::InvalidConnection);
        }
        if size == Some(0) {
            return Err(SockError::BadPoolSize(0));
        }
        let key = match self.pool_key.borrow().clone() {
            Some(k) => k,
            None => conn.peer().to_string().into(),
        };
        let create = (size.unwrap_or(pools.config().size), None);
        let Some(pool) = pools.get(&key, Some(create)) else {
            return Err(SockError::Closed);
        };
        self.conn.borrow_mut().take();
        if conn.peek_idle() != crate::io::IdleState::Quiet {
            conn.close();
            return Err(SockError::DubiousState);
        }
        let idle_timeout = match timeout_ms {
            None => Some(pools.config().idle_timeout),
            Some(0) => None,
            Some(ms) => Some(std::time::Duration::from_millis(ms)),
        };
        pool.put_idle(conn, idle_timeout);
        Ok(())
    }

    /// `setoption(name, value)`.
    pub fn setoption(&self, opt: SockOption, value: i32) -> Result<(), SockError> {
        let conn = self.conn()?;
        let io = conn.io().ok_or(SockError::Closed)?;
        let s = io.plain_stream().sock_ref();
        let on = value != 0;
        let size = usize::try_from(value).unwrap_or(0);
        match opt {
            SockOption::KeepAlive => s.set_keepalive(on),
            SockOption::ReuseAddr => s.set_reuse_address(on),
            SockOption::TcpNoDelay => s.set_nodelay(on),
            SockOption::SndBuf => s.set_send_buffer_size(size),
            SockOption::RcvBuf => s.set_recv_buffer_size(size),
        }
        .map_err(SockError::from)
    }

    /// `getoption(name)`.
    pub fn getoption(&self, opt: SockOption) -> Result<i32, SockError> {
        let conn = self.conn()?;
        let io = conn.io().ok_or(SockError::Closed)?;
        let s = io.plain_stream().sock_ref();
        let clamp = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        match opt {
            SockOption::KeepAlive => s.keepalive().map(i32::from),
            SockOption::ReuseAddr => s.reuse_address().map(i32::from),
            SockOption::TcpNoDelay => s.nodelay().map(i32::from),
            SockOption::SndBuf => s.send_buffer_size().map(clamp),
            SockOption::RcvBuf => s.recv_buffer_size().map(clamp),
        }
        .map_err(SockError::from)
    }
}
