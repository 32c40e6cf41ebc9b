//! Non-blocking TCP and unix-domain sockets with OpenResty's cosocket
//! semantics (`ngx.socket.tcp`), knowing nothing about Lua.
//!
//! Everything here is per worker: types are `!Send`, state lives in
//! `Cell`/`RefCell` that are never borrowed across an await, and idle
//! connection watchers are spawned with `spawn_local`. Use the crate inside
//! a tokio current-thread runtime with a `LocalSet`.
//!
//! # Binding map
//!
//! | Lua (`tcpsock:`) | Rust ([`TcpSock`]) |
//! |---|---|
//! | `ngx.socket.tcp()` | [`TcpSock::new`] with the `lua_socket_*_timeout` values |
//! | `settimeout(ms)` / `settimeouts(c, s, r)` | [`TcpSock::settimeout`] / [`TcpSock::settimeouts`] (0 restores the default) |
//! | `bind(addr)` | [`TcpSock::bind`] |
//! | `connect(host, port, opts)` | [`Target::parse`] to spot names, then [`TcpSock::connect`] with a resolver closure |
//! | `sslhandshake(sess, name, verify)` | [`TcpSock::ssl_handshake`] with a [`TlsContext`] |
//! | `send(data)` | [`TcpSock::send`] |
//! | `receive(n)` / `receive("*l")` / `receive("*a")` | [`TcpSock::receive_bytes`] / [`TcpSock::receive_line`] / [`TcpSock::receive_all`] |
//! | `receiveany(max)` | [`TcpSock::receive_any`] |
//! | `receiveuntil(pat, {inclusive})` then `it(size?)` | [`ReceiveUntil::new`] then [`TcpSock::receive_until`] |
//! | `close()` | [`TcpSock::close`] |
//! | `setkeepalive(timeout, size)` / `getreusedtimes()` | [`TcpSock::set_keepalive`] / [`TcpSock::reused_times`] |
//! | `setoption(name, v)` / `getoption(name)` | [`TcpSock::setoption`] / [`TcpSock::getoption`] ([`SockOption`] parses names) |
//!
//! Errors are [`SockError`]s whose `Display` is the `err` string Lua sees.
//! Receives fail with [`RecvError`] = `(err, partial)`: `partial` is `None`
//! when the call was refused before reading (OpenResty returns `nil, err`)
//! and `Some` when it failed midway (`nil, err, partial`, possibly `""`).
//! Only a read timeout leaves the socket usable; other read errors close the
//! read half, and any send error (a timeout included) closes the write half,
//! as lua-nginx-module does. [`Pools`] documents the keep-alive rules.
//!
//! # Example
//!
//! ```no_run
//! use bytes::Bytes;
//! use ngx_cosocket::{PoolOptions, Pools, SockError, TcpSock, Target, Timeouts};
//!
//! async fn ping(pools: &Pools) -> Result<Bytes, SockError> {
//!     let sock = TcpSock::new(Timeouts::default());
//!     sock.settimeout(1000)?;
//!     let key = Target::default_pool_key("127.0.0.1", Some(6379));
//!     // The closure runs only if no pooled connection is reused.
//!     let resolve = || async { Target::parse("127.0.0.1", Some(6379)) };
//!     sock.connect(pools, &key, PoolOptions::default(), resolve).await?;
//!     if sock.reused_times()? == 0 {
//!         // First use of this connection: authenticate, select a db, ...
//!     }
//!     sock.send(b"PING\r\n").await?;
//!     let reply = sock.receive_line().await.map_err(|(err, _partial)| err)?;
//!     sock.set_keepalive(pools, None, None)?;
//!     Ok(reply)
//! }
//! ```
//!
//! # Modules
//!
//! * `error`: [`SockError`] and the errno mapping.
//! * `target`: [`Target`], connect-argument parsing, [`Timeouts`].
//! * `io`: plain and TLS transports usable through `&self`.
//! * `conn`: one connection: buffer, busy flags, read driver, send.
//! * `reader`: the `receive` patterns as steps over the buffer.
//! * `receive_until`: the pure [`UntilMatcher`] and [`ReceiveUntil`].
//! * `socket`: [`TcpSock`], the per-Lua-object state.
//! * `pool`: [`Pools`], keep-alive and backlog queueing.
//! * `tls`: [`TlsContext`] and OpenResty's verification error strings.

mod conn;
mod error;
mod io;
mod pool;
mod reader;
mod receive_until;
mod socket;
mod target;
mod tls;

pub use conn::RecvError;
pub use error::SockError;
pub use pool::{PoolConfig, PoolOptions, PoolStats, Pools};
pub use receive_until::{ReceiveUntil, Step, UntilMatcher};
pub use socket::{SockOption, TcpSock};
pub use target::{Target, Timeouts};
pub use tls::{TlsContext, TlsOptions};
