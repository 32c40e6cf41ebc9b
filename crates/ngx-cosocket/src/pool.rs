//! Per-worker keep-alive pools, after lua-nginx-module's `socket_pool`.
//!
//! # For the Lua binding
//!
//! | Lua | Rust |
//! |---|---|
//! | `sock:connect(host, port, {pool = k, pool_size = n, backlog = b})` | [`TcpSock::connect`](crate::TcpSock::connect)`(&pools, k, PoolOptions { size: Some(n), backlog: Some(b) }, resolve)` |
//! | `sock:connect(host, port)` | same with `Target::default_pool_key(host, Some(port))` and `PoolOptions::default()` |
//! | `sock:setkeepalive(timeout?, size?)` | [`TcpSock::set_keepalive`](crate::TcpSock::set_keepalive)`(&pools, timeout, size)` |
//! | `sock:getreusedtimes()` | [`TcpSock::reused_times`](crate::TcpSock::reused_times) |
//! | `lua_socket_pool_size`, `lua_socket_keepalive_timeout` | [`PoolConfig`] given to [`Pools::new`] |
//!
//! Rules, as in OpenResty (README `tcpsock:connect`, `tcpsock:setkeepalive`):
//! * A pool exists for a key once `connect` passed `pool_size` or `backlog`,
//!   or `setkeepalive` put a connection in it (size from its argument, else
//!   `lua_socket_pool_size`). Its size never changes afterwards. A pool left
//!   with no connection and no queued connect is forgotten, so the next
//!   creation may pick another size.
//! * `connect` looks in the pool before resolving: the most recently parked
//!   idle connection is reused and its reuse count goes up by one.
//! * At most `size` idle connections are kept; parking one more closes the
//!   least recently parked.
//! * Connections made while the pool exists count against it until closed;
//!   idle ones count too. Without a backlog the count is not capped. With a
//!   backlog, a connect that would exceed `size` waits in a FIFO queue of at
//!   most `backlog` (else `too many waiting connect operations`) for a
//!   connection to be closed or parked, and gives up with `timeout` after the
//!   connect timeout.
//! * An idle connection is closed when its idle timeout passes (0: never),
//!   or when the peer sends data or closes it. A watcher task per idle
//!   connection notices that at once; `connect` also checks before reusing.
//!
//! Watchers are spawned with `tokio::task::spawn_local`, so `setkeepalive`
//! must run inside a `LocalSet` (every worker does).

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::rc::{Rc, Weak};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::conn::Conn;
use crate::error::SockError;
use crate::io::{IdleState, Plain};

/// Worker-wide defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolConfig {
    /// `lua_socket_pool_size`: size of pools created without a size.
    pub size: usize,
    /// `lua_socket_keepalive_timeout`: idle timeout when `setkeepalive`
    /// passes none.
    pub idle_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            size: 30,
            idle_timeout: Duration::from_secs(60),
        }
    }
}

/// The `pool_size` / `backlog` options of `connect`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolOptions {
    pub size: Option<usize>,
    pub backlog: Option<usize>,
}

/// A snapshot of one pool, for tests and status pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: usize,
    pub backlog: Option<usize>,
    /// Counted connections: connecting, in use, and idle.
    pub connections: usize,
    pub idle: usize,
    /// Connects queued in the backlog.
    pub waiting: usize,
}

/// All pools of one worker. Cloning shares them.
#[derive(Clone, Default)]
pub struct Pools {
    reg: Rc<Registry>,
}

#[derive(Default)]
struct Registry {
    pools: RefCell<HashMap<Rc<str>, Rc<Pool>>>,
    config: PoolConfig,
}

impl Pools {
    pub fn new(config: PoolConfig) -> Pools {
        Pools {
            reg: Rc::new(Registry {
                pools: RefCell::default(),
                config,
            }),
        }
    }

    pub fn config(&self) -> PoolConfig {
        self.reg.config
    }

    /// `None` when no pool exists for `key` (or it has been forgotten).
    pub fn stats(&self, key: &str) -> Option<PoolStats> {
        let pool = self.get(key, None)?;
        let idle = pool.idle.borrow().len();
        let waiting = pool.waiters.borrow().len();
        Some(PoolStats {
            size: pool.size,
            backlog: pool.backlog,
            connections: pool.connections.get(),
            idle,
            waiting,
        })
    }

    /// The live pool for `key`; with `create`, makes one of that size and
    /// backlog when there is none.
    pub(crate) fn get(
        &self,
        key: &str,
        create: Option<(usize, Option<usize>)>,
    ) -> Option<Rc<Pool>> {
        let mut map = self.reg.pools.borrow_mut();
        if let Some(pool) = map.get(key) {
            if !pool.is_empty() {
                return Some(pool.clone());
            }
        }
        // OpenResty frees a pool when its last connection goes; an empty
        // one here is treated as freed.
        let stale = map.remove(key);
        let created = create.map(|(size, backlog)| {
            let pool = Rc::new(Pool::new(key, size, backlog));
            map.insert(pool.key.clone(), pool.clone());
            pool
        });
        drop(map);
        drop(stale);
        created
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        // Idle connections hold slots that point back at their pool; break
        // those cycles, and wake queued connects with an error.
        let pools: Vec<Rc<Pool>> = self.pools.get_mut().drain().map(|(_, p)| p).collect();
        for pool in pools {
            let idle: Vec<IdleConn> = pool.idle.borrow_mut().drain(..).collect();
            drop(idle);
            let waiters: Vec<Waiter> = pool.waiters.borrow_mut().drain(..).collect();
            drop(waiters);
        }
    }
}

pub(crate) struct Pool {
    key: Rc<str>,
    size: usize,
    backlog: Option<usize>,
    connections: Cell<usize>,
    /// Front: most recently parked.
    idle: RefCell<VecDeque<IdleConn>>,
    waiters: RefCell<VecDeque<Waiter>>,
    next_id: Cell<u64>,
}

/// What a connect gets from the pool.
pub(crate) enum Grant {
    Reuse(Rc<Conn>),
    /// Permission to open a new connection, counted by this slot.
    Connect(Slot),
}

struct Waiter {
    id: u64,
    tx: oneshot::Sender<Grant>,
}

struct IdleConn {
    id: u64,
    conn: Rc<Conn>,
    watcher: Option<JoinHandle<()>>,
}

impl IdleConn {
    fn into_conn(mut self) -> Rc<Conn> {
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
        self.conn.clone()
    }
}

impl Drop for IdleConn {
    fn drop(&mut self) {
        if let Some(w) = self.watcher.take() {
            w.abort();
        }
    }
}

impl Pool {
    fn new(key: &str, size: usize, backlog: Option<usize>) -> Pool {
        Pool {
            key: key.into(),
            size,
            backlog,
            connections: Cell::new(0),
            idle: RefCell::default(),
            waiters: RefCell::default(),
            next_id: Cell::new(0),
        }
    }

    fn is_empty(&self) -> bool {
        self.connections.get() == 0 && self.waiters.borrow().is_empty()
    }

    fn next_id(&self) -> u64 {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        id
    }

    /// A reusable idle connection, or leave to connect, or (with a backlog
    /// and the pool full) a place in the queue until one of those frees up.
    pub(crate) async fn acquire(self: &Rc<Self>, timeout: Duration) -> Result<Grant, SockError> {
        if let Some(conn) = self.take_idle() {
            return Ok(Grant::Reuse(conn));
        }
        match self.backlog {
            Some(backlog) if self.connections.get() >= self.size => {
                self.wait(backlog, timeout).await
            }
            _ => Ok(Grant::Connect(Slot::take(self))),
        }
    }

    fn take_idle(&self) -> Option<Rc<Conn>> {
        loop {
            let entry = self.idle.borrow_mut().pop_front()?;
            if entry.conn.peek_idle() == IdleState::Quiet {
                return Some(entry.into_conn());
            }
            // The peer closed it or sent something while it sat here.
            drop(entry);
        }
    }

    async fn wait(self: &Rc<Self>, backlog: usize, timeout: Duration) -> Result<Grant, SockError> {
        if self.waiters.borrow().len() >= backlog {
            return Err(SockError::TooManyWaiting);
        }
        let (tx, mut rx) = oneshot::channel();
        let id = self.next_id();
        self.waiters.borrow_mut().push_back(Waiter { id, tx });
        let _queued = Queued { pool: self, id };
        match tokio::time::timeout(timeout, &mut rx).await {
            Ok(Ok(grant)) => Ok(grant),
            Ok(Err(_)) => Err(SockError::Closed),
            // A grant that arrived together with the timer still counts.
            Err(_) => rx.try_recv().map_err(|_| SockError::Timeout),
        }
    }

    /// Called when a counted connection closes: its place goes to the
    /// oldest queued connect, or the count drops.
    fn release(self: &Rc<Self>) {
        loop {
            let Some(waiter) = self.waiters.borrow_mut().pop_front() else {
                break;
            };
            match waiter.tx.send(Grant::Connect(Slot::inherit(self.clone()))) {
                Ok(()) => return,
                Err(grant) => grant.forget(),
            }
        }
        self.connections.set(self.connections.get() - 1);
    }

    /// `setkeepalive`: hands `conn` to a queued connect, or parks it.
    pub(crate) fn put_idle(self: &Rc<Self>, conn: Rc<Conn>, idle_timeout: Option<Duration>) {
        let counted_here = conn
            .slot()
            .borrow()
            .as_ref()
            .is_some_and(|s| s.belongs_to(self));
        if !counted_here {
            let new = Slot::take(self);
            let old = conn.slot().borrow_mut().replace(new);
            drop(old);
        }
        let mut conn = conn;
        loop {
            let Some(waiter) = self.waiters.borrow_mut().pop_front() else {
                break;
            };
            match waiter.tx.send(Grant::Reuse(conn)) {
                Ok(()) => return,
                Err(Grant::Reuse(back)) => conn = back,
                Err(other) => return other.forget(),
            }
        }
        let id = self.next_id();
        let watcher = conn
            .io()
            .map(|io| watch(self, id, io.plain_stream().clone(), idle_timeout));
        self.idle
            .borrow_mut()
            .push_front(IdleConn { id, conn, watcher });
        let evicted = {
            let mut idle = self.idle.borrow_mut();
            if idle.len() > self.size {
                idle.pop_back()
            } else {
                None
            }
        };
        drop(evicted);
    }

    fn remove_idle(&self, id: u64) {
        let entry = {
            let mut idle = self.idle.borrow_mut();
            let at = idle.iter().position(|e| e.id == id);
            at.and_then(|i| idle.remove(i))
        };
        if let Some(mut entry) = entry {
            // Called from the watcher itself, which is finishing anyway.
            entry.watcher = None;
        }
    }
}

/// Closes the idle connection `id` when its timeout passes or the peer
/// stirs, without ever reading from it.
fn watch(pool: &Rc<Pool>, id: u64, plain: Rc<Plain>, timeout: Option<Duration>) -> JoinHandle<()> {
    let pool: Weak<Pool> = Rc::downgrade(pool);
    tokio::task::spawn_local(async move {
        let expired = async {
            match timeout {
                Some(t) => tokio::time::sleep(t).await,
                None => std::future::pending().await,
            }
        };
        let stirred = async {
            loop {
                if plain.readable().await.is_err() || plain.peek_tracked() == IdleState::Stale {
                    return;
                }
            }
        };
        tokio::select! {
            () = expired => {}
            () = stirred => {}
        }
        drop(plain);
        if let Some(pool) = pool.upgrade() {
            pool.remove_idle(id);
        }
    })
}

/// Removes a queued connect that stopped waiting (timed out, or its request
/// went away).
struct Queued<'a> {
    pool: &'a Pool,
    id: u64,
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        let gone = {
            let mut waiters = self.pool.waiters.borrow_mut();
            let at = waiters.iter().position(|w| w.id == self.id);
            at.and_then(|i| waiters.remove(i))
        };
        drop(gone);
    }
}

impl Grant {
    /// Undoes a grant that found no taker without touching the count.
    fn forget(self) {
        if let Grant::Connect(slot) = self {
            slot.forget();
        }
    }
}

/// One place in a pool's connection count, given back on drop.
pub(crate) struct Slot {
    pool: Option<Rc<Pool>>,
}

impl Slot {
    fn take(pool: &Rc<Pool>) -> Slot {
        pool.connections.set(pool.connections.get() + 1);
        Slot {
            pool: Some(pool.clone()),
        }
    }

    /// A place handed over from a closed connection: already counted.
    fn inherit(pool: Rc<Pool>) -> Slot {
        Slot { pool: Some(pool) }
    }

    fn forget(mut self) {
        self.pool = None;
    }

    fn belongs_to(&self, pool: &Rc<Pool>) -> bool {
        self.pool.as_ref().is_some_and(|p| Rc::ptr_eq(p, pool))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.release();
        }
    }
}
