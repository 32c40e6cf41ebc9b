//! Keep-alive pools: reuse, LRU eviction, idle expiry, peers stirring while
//! idle, and backlog queueing.

mod support;

use std::cell::Cell;
use std::time::{Duration, Instant};

use bytes::Bytes;
use ngx_cosocket::{PoolConfig, PoolOptions, Pools, SockError, Target, TcpSock};
use support::{ms, run, LineServer};

fn key(server: &LineServer) -> String {
    Target::default_pool_key("127.0.0.1", Some(server.addr.port().into()))
}

async fn connect_with(
    pools: &Pools,
    server: &LineServer,
    opts: PoolOptions,
    sock: &TcpSock,
) -> Result<(), SockError> {
    let target = server.target();
    sock.connect(pools, &key(server), opts, || async move { Ok(target) })
        .await
}

async fn connect(pools: &Pools, server: &LineServer) -> TcpSock {
    let sock = TcpSock::default();
    connect_with(pools, server, PoolOptions::default(), &sock)
        .await
        .unwrap();
    sock
}

async fn ask(sock: &TcpSock, cmd: &str) -> String {
    sock.send(format!("{cmd}\n").as_bytes()).await.unwrap();
    String::from_utf8(sock.receive_line().await.unwrap().to_vec()).unwrap()
}

/// Waits up to a second for a condition another thread makes true.
async fn eventually(what: &str, cond: impl Fn() -> bool) {
    let started = Instant::now();
    while !cond() {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "never happened: {what}"
        );
        tokio::time::sleep(ms(5)).await;
    }
}

#[test]
fn reuse_counts_and_skips_resolving() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        let resolved = Cell::new(0);
        for round in 0..3u32 {
            let sock = TcpSock::default();
            let target = server.target();
            let resolve = || {
                resolved.set(resolved.get() + 1);
                async move { Ok(target) }
            };
            sock.connect(&pools, &key(&server), PoolOptions::default(), resolve)
                .await
                .unwrap();
            assert_eq!(sock.reused_times(), Ok(round));
            assert_eq!(ask(&sock, "id").await, "conn 1");
            sock.set_keepalive(&pools, None, None).unwrap();
            assert!(!sock.is_connected());
            assert_eq!(sock.send(b"x").await, Err(SockError::Closed));
        }
        assert_eq!(resolved.get(), 1);
        assert_eq!(server.accepted(), 1);
        let stats = pools.stats(&key(&server)).unwrap();
        assert_eq!((stats.size, stats.connections, stats.idle), (30, 1, 1));
    });
}

#[test]
fn full_pool_evicts_least_recently_parked() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        let socks = [
            connect(&pools, &server).await,
            connect(&pools, &server).await,
            connect(&pools, &server).await,
        ];
        for (i, sock) in socks.iter().enumerate() {
            assert_eq!(ask(sock, "id").await, format!("conn {}", i + 1));
        }
        for sock in &socks {
            sock.set_keepalive(&pools, Some(0), Some(2)).unwrap();
        }
        eventually("conn 1 closed", || server.ended() == 1).await;
        assert_eq!(pools.stats(&key(&server)).unwrap().idle, 2);
        // Most recently parked first.
        let a = connect(&pools, &server).await;
        let b = connect(&pools, &server).await;
        let c = connect(&pools, &server).await;
        assert_eq!(ask(&a, "id").await, "conn 3");
        assert_eq!(ask(&b, "id").await, "conn 2");
        assert_eq!(ask(&c, "id").await, "conn 4");
        assert_eq!(c.reused_times(), Ok(0));
    });
}

#[test]
fn idle_timeout_closes_and_frees_the_pool() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        let sock = connect(&pools, &server).await;
        assert_eq!(ask(&sock, "hi").await, "hi");
        sock.set_keepalive(&pools, Some(300), None).unwrap();
        tokio::time::sleep(ms(30)).await;
        assert_eq!(pools.stats(&key(&server)).unwrap().idle, 1);
        eventually("idle connection expired", || server.ended() == 1).await;
        assert_eq!(pools.stats(&key(&server)), None);
        let again = connect(&pools, &server).await;
        assert_eq!(again.reused_times(), Ok(0));
    });
}

#[test]
fn peer_closing_an_idle_connection_removes_it() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        let sock = connect(&pools, &server).await;
        assert_eq!(ask(&sock, "close-later").await, "ok");
        sock.set_keepalive(&pools, Some(0), None).unwrap();
        eventually("peer closed", || server.ended() == 1).await;
        let started = Instant::now();
        while pools.stats(&key(&server)).is_some() {
            assert!(started.elapsed() < ms(500), "watcher did not notice");
            tokio::time::sleep(ms(5)).await;
        }
        let fresh = connect(&pools, &server).await;
        assert_eq!(ask(&fresh, "id").await, "conn 2");
    });
}

#[test]
fn peer_sending_to_an_idle_connection_removes_it() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        let sock = connect(&pools, &server).await;
        assert_eq!(ask(&sock, "poke-later").await, "ok");
        sock.set_keepalive(&pools, Some(0), None).unwrap();
        assert_eq!(pools.stats(&key(&server)).unwrap().idle, 1);
        eventually("server saw the close", || server.ended() == 1).await;
        assert_eq!(pools.stats(&key(&server)), None);
    });
}

#[test]
fn keepalive_refusals() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        // Data already in our buffer: refused, socket still usable.
        let sock = connect(&pools, &server).await;
        sock.send(b"two\n").await.unwrap();
        tokio::time::sleep(ms(30)).await;
        assert_eq!(sock.receive_line().await.unwrap(), Bytes::from("ok"));
        assert_eq!(
            sock.set_keepalive(&pools, None, None),
            Err(SockError::UnreadData)
        );
        assert_eq!(sock.receive_line().await.unwrap(), Bytes::from("extra"));
        sock.set_keepalive(&pools, None, None).unwrap();

        // Data arrived in the kernel meanwhile: closed as dubious.
        let sock = connect(&pools, &server).await;
        let sock2 = connect(&pools, &server).await;
        assert_eq!(ask(&sock2, "poke-later").await, "ok");
        tokio::time::sleep(ms(200)).await;
        assert_eq!(
            sock2.set_keepalive(&pools, None, None),
            Err(SockError::DubiousState)
        );
        assert_eq!(sock2.send(b"x").await, Err(SockError::Closed));

        // After EOF: invalid.
        sock.send(b"close\n").await.unwrap();
        assert_eq!(sock.receive_all().await.unwrap(), Bytes::new());
        assert_eq!(
            sock.set_keepalive(&pools, None, None),
            Err(SockError::InvalidConnection)
        );
        assert_eq!(
            sock.set_keepalive(&pools, None, Some(0)),
            Err(SockError::InvalidConnection)
        );
    });
}

#[test]
fn default_size_comes_from_the_config() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::new(PoolConfig {
            size: 1,
            idle_timeout: ms(10_000),
        });
        let a = connect(&pools, &server).await;
        let b = connect(&pools, &server).await;
        a.set_keepalive(&pools, None, None).unwrap();
        b.set_keepalive(&pools, None, None).unwrap();
        let stats = pools.stats(&key(&server)).unwrap();
        assert_eq!((stats.size, stats.idle, stats.connections), (1, 1, 1));
        eventually("evicted closed", || server.ended() == 1).await;
    });
}

#[test]
fn dropping_the_pools_closes_idle_connections() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        let sock = connect(&pools, &server).await;
        sock.set_keepalive(&pools, Some(0), None).unwrap();
        drop(pools);
        eventually("closed with the pools", || server.ended() == 1).await;
    });
}

#[test]
fn backlog_queues_and_overflows() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        let opts = PoolOptions {
            size: Some(1),
            backlog: Some(1),
        };
        let a = TcpSock::default();
        connect_with(&pools, &server, opts, &a).await.unwrap();
        let b = TcpSock::default();
        let c = TcpSock::default();
        let queued = connect_with(&pools, &server, opts, &b);
        let rest = async {
            tokio::time::sleep(ms(20)).await;
            assert_eq!(pools.stats(&key(&server)).unwrap().waiting, 1);
            let overflow = connect_with(&pools, &server, opts, &c).await;
            tokio::time::sleep(ms(20)).await;
            a.set_keepalive(&pools, None, None).unwrap();
            overflow
        };
        let (queued, overflow) = tokio::join!(queued, rest);
        assert_eq!(
            overflow.unwrap_err().to_string(),
            "too many waiting connect operations"
        );
        queued.unwrap();
        // B got A's connection straight from setkeepalive.
        assert_eq!(b.reused_times(), Ok(1));
        assert_eq!(ask(&b, "id").await, "conn 1");
        assert_eq!(server.accepted(), 1);
    });
}

#[test]
fn backlog_is_served_when_a_connection_closes() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        let opts = PoolOptions {
            size: Some(1),
            backlog: Some(4),
        };
        let a = TcpSock::default();
        connect_with(&pools, &server, opts, &a).await.unwrap();
        let b = TcpSock::default();
        let closer = async {
            tokio::time::sleep(ms(30)).await;
            a.close().unwrap();
        };
        let (queued, ()) = tokio::join!(connect_with(&pools, &server, opts, &b), closer);
        queued.unwrap();
        assert_eq!(b.reused_times(), Ok(0));
        assert_eq!(ask(&b, "id").await, "conn 2");
        assert_eq!(pools.stats(&key(&server)).unwrap().connections, 1);
    });
}

#[test]
fn queued_connect_times_out_or_is_abandoned() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        let opts = PoolOptions {
            size: Some(1),
            backlog: Some(1),
        };
        let a = TcpSock::default();
        connect_with(&pools, &server, opts, &a).await.unwrap();
        let b = TcpSock::default();
        b.settimeout(80).unwrap();
        let started = Instant::now();
        assert_eq!(
            connect_with(&pools, &server, opts, &b).await,
            Err(SockError::Timeout)
        );
        assert!(started.elapsed() >= ms(80));
        assert_eq!(pools.stats(&key(&server)).unwrap().waiting, 0);
        // A request that goes away while queued leaves the queue too.
        let gone = tokio::time::timeout(ms(20), connect_with(&pools, &server, opts, &b)).await;
        assert!(gone.is_err());
        assert_eq!(pools.stats(&key(&server)).unwrap().waiting, 0);
        assert!(!b.is_connected());
        // And the socket is not stuck "connecting".
        assert_eq!(b.close(), Err(SockError::Closed));
    });
}

#[test]
fn without_backlog_the_count_is_not_capped() {
    let server = LineServer::start();
    run(async {
        let pools = Pools::default();
        let opts = PoolOptions {
            size: Some(1),
            backlog: None,
        };
        let socks = [TcpSock::default(), TcpSock::default(), TcpSock::default()];
        for s in &socks {
            connect_with(&pools, &server, opts, s).await.unwrap();
        }
        assert_eq!(pools.stats(&key(&server)).unwrap().connections, 3);
        for s in &socks {
            s.close().unwrap();
        }
        assert_eq!(pools.stats(&key(&server)), None);
    });
}

#[test]
fn failed_connect_gives_its_place_back() {
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    run(async {
        let pools = Pools::default();
        let opts = PoolOptions {
            size: Some(1),
            backlog: Some(0),
        };
        for _ in 0..2 {
            let sock = TcpSock::default();
            let err = sock
                .connect(
                    &pools,
                    "dead",
                    opts,
                    || async move { Ok(Target::Inet(dead)) },
                )
                .await;
            assert_eq!(err, Err(SockError::ConnectionRefused));
        }
        let sock = TcpSock::default();
        let err = sock
            .connect(&pools, "dead", opts, || async {
                Err(SockError::NoResolver("x".into()))
            })
            .await;
        assert_eq!(
            err.unwrap_err().to_string(),
            "no resolver defined to resolve \"x\""
        );
        assert_eq!(pools.stats("dead"), None);
    });
}
