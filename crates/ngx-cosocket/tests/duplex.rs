//! One reader plus one writer at once, busy errors, timeouts, and futures
//! dropped midway.

mod support;

use std::net::TcpListener;
use std::time::Instant;

use bytes::Bytes;
use ngx_cosocket::{SockError, Target, TcpSock};
use support::{ms, run, send, Act, LineServer, Peer};

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn reader_and_writer_run_concurrently() {
    let server = LineServer::start();
    run(async {
        let sock = TcpSock::default();
        sock.connect_to(&server.target()).await.unwrap();
        let n = 200;
        let reader = async {
            let mut lines = Vec::new();
            for _ in 0..n {
                lines.push(sock.receive_line().await.unwrap());
            }
            lines
        };
        let writer = async {
            for i in 0..n {
                sock.send(format!("line {i}\n").as_bytes()).await.unwrap();
                if i % 50 == 0 {
                    tokio::time::sleep(ms(1)).await;
                }
            }
        };
        let (lines, ()) = tokio::join!(reader, writer);
        let want: Vec<Bytes> = (0..n).map(|i| Bytes::from(format!("line {i}"))).collect();
        assert_eq!(lines, want);
    });
}

#[test]
fn second_reader_gets_busy_reading() {
    run(async {
        let peer = Peer::spawn(vec![Act::Sleep(ms(200)), send("late\n")]);
        let sock = TcpSock::default();
        sock.connect_to(&peer.target()).await.unwrap();
        let first = sock.receive_line();
        let second = async {
            tokio::time::sleep(ms(10)).await;
            let busy = sock.receive_bytes(1).await.unwrap_err();
            // Close and setkeepalive also refuse while someone reads.
            (busy, sock.close())
        };
        let (first, (busy, close)) = tokio::join!(first, second);
        assert_eq!(first.unwrap(), b("late"));
        assert_eq!(busy, (SockError::BusyReading, None));
        assert_eq!(close, Err(SockError::BusyReading));
    });
}

#[test]
fn blocked_send_gives_busy_writing_then_times_out() {
    // The peer never reads, so a large send fills the socket buffers.
    let peer = Peer::spawn(vec![
        Act::Sleep(ms(600)),
        send("still here\n"),
        Act::Sleep(ms(3000)),
    ]);
    run(async {
        let sock = TcpSock::default();
        sock.settimeouts(1000, 150, 2000).unwrap();
        sock.connect_to(&peer.target()).await.unwrap();
        let big = vec![b'x'; 64 << 20];
        let started = Instant::now();
        let sender = sock.send(&big);
        let other = async {
            tokio::time::sleep(ms(20)).await;
            sock.send(b"y").await
        };
        let (sent, other) = tokio::join!(sender, other);
        assert_eq!(other, Err(SockError::BusyWriting));
        assert_eq!(sent, Err(SockError::Timeout));
        assert!(started.elapsed() >= ms(150));
        // A send timeout closes the write half only.
        assert_eq!(sock.send(b"z").await, Err(SockError::Closed));
        assert_eq!(sock.receive_line().await.unwrap(), b("still here"));
    });
}

#[test]
fn read_timeout_keeps_the_socket_usable() {
    run(async {
        let peer = Peer::spawn(vec![send("abc"), Act::Sleep(ms(250)), send("def\nmore\n")]);
        let sock = TcpSock::default();
        sock.settimeout(100).unwrap();
        sock.connect_to(&peer.target()).await.unwrap();
        let started = Instant::now();
        let err = sock.receive_line().await.unwrap_err();
        assert_eq!(err, (SockError::Timeout, Some(b("abc"))));
        assert!(started.elapsed() >= ms(100));
        // The partial data was handed out; reading goes on after it.
        sock.settimeout(0).unwrap();
        assert_eq!(sock.receive_line().await.unwrap(), b("def"));
        assert_eq!(sock.receive_line().await.unwrap(), b("more"));
    });
}

#[test]
fn read_timeout_is_per_wait_not_total() {
    run(async {
        let mut script = Vec::new();
        for c in b"slow\n" {
            script.push(Act::Sleep(ms(50)));
            script.push(Act::Send(vec![*c]));
        }
        let peer = Peer::spawn(script);
        let sock = TcpSock::default();
        sock.settimeout(200).unwrap();
        sock.connect_to(&peer.target()).await.unwrap();
        // 250 ms in all, but never 200 ms without progress.
        assert_eq!(sock.receive_line().await.unwrap(), b("slow"));
    });
}

#[test]
fn cancelled_receive_loses_nothing() {
    run(async {
        let peer = Peer::spawn(vec![send("1234"), Act::Sleep(ms(100)), send("567890")]);
        let sock = TcpSock::default();
        sock.connect_to(&peer.target()).await.unwrap();
        // The request goes away while the receive waits for the rest.
        let cut = tokio::time::timeout(ms(40), sock.receive_bytes(10)).await;
        assert!(cut.is_err());
        assert_eq!(sock.receive_bytes(10).await.unwrap(), b("1234567890"));
    });
}

#[test]
fn cancelled_send_that_wrote_nothing_leaves_socket_usable() {
    run(async {
        let peer = Peer::spawn(vec![Act::Read(2)]);
        let sock = TcpSock::default();
        sock.connect_to(&peer.target()).await.unwrap();
        // Polled zero times: dropped before it started.
        drop(sock.send(b"zz"));
        assert_eq!(sock.send(b"ok").await, Ok(2));
        assert_eq!(peer.join(), b"ok");
    });
}

#[test]
fn cancelled_send_midway_closes_the_write_half() {
    // Long enough that even a starved test thread gets cut off first.
    let peer = Peer::spawn(vec![Act::Sleep(ms(5000))]);
    run(async {
        let sock = TcpSock::default();
        sock.connect_to(&peer.target()).await.unwrap();
        let big = vec![b'x'; 64 << 20];
        let cut = tokio::time::timeout(ms(50), sock.send(&big)).await;
        assert!(cut.is_err());
        assert_eq!(sock.send(b"more").await, Err(SockError::Closed));
        assert!(sock.is_connected());
    });
}

#[test]
fn connect_refused() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    run(async {
        let sock = TcpSock::default();
        let err = sock
            .connect_to(&Target::parse("127.0.0.1", Some(port.into())).unwrap())
            .await;
        assert_eq!(err.unwrap_err().to_string(), "connection refused");
        assert!(!sock.is_connected());
    });
}

#[test]
fn connect_times_out_when_the_backlog_is_full() {
    // A listener that never accepts, with its accept queue filled up: the
    // kernel drops further SYNs and the connect hangs.
    let sock2 = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    sock2
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    sock2.listen(0).unwrap();
    let addr = sock2.local_addr().unwrap().as_socket().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&addr.into());
        fillers.push(s);
    }
    std::thread::sleep(ms(50));
    run(async {
        let sock = TcpSock::default();
        sock.settimeout(150).unwrap();
        let started = Instant::now();
        let err = sock.connect_to(&Target::Inet(addr)).await.unwrap_err();
        assert_eq!(err, SockError::Timeout);
        assert!(started.elapsed() >= ms(150) && started.elapsed() < ms(1000));
    });
    drop(fillers);
}

#[test]
fn bind_to_a_local_address() {
    let server = LineServer::start();
    run(async {
        let sock = TcpSock::default();
        sock.bind("127.0.0.2".parse().unwrap());
        sock.connect_to(&server.target()).await.unwrap();
        sock.send(b"id\n").await.unwrap();
        assert_eq!(sock.receive_line().await.unwrap(), b("conn 1"));
    });
}

#[test]
fn socket_options() {
    let server = LineServer::start();
    run(async {
        use ngx_cosocket::SockOption;
        let sock = TcpSock::default();
        assert_eq!(
            sock.setoption(SockOption::KeepAlive, 1),
            Err(SockError::Closed)
        );
        sock.connect_to(&server.target()).await.unwrap();
        sock.setoption(SockOption::KeepAlive, 1).unwrap();
        assert_eq!(sock.getoption(SockOption::KeepAlive), Ok(1));
        assert_eq!(sock.getoption(SockOption::TcpNoDelay), Ok(1));
        sock.setoption(SockOption::RcvBuf, 65536).unwrap();
        assert!(sock.getoption(SockOption::RcvBuf).unwrap() >= 65536);
        let bad = "nope".parse::<SockOption>().unwrap_err();
        assert_eq!(bad.to_string(), "unsupported option nope");
    });
}
