//! Every receive pattern against a real peer, under every chunking of the
//! same byte stream: results must not depend on how the bytes arrive.

mod support;

use bytes::Bytes;
use ngx_cosocket::{ReceiveUntil, SockError, Target, TcpSock};
use support::{cuts, ms, run, send, Act, Peer};

fn chunkings(data: &[u8]) -> Vec<(String, Act)> {
    let mut out = vec![
        ("whole".to_owned(), Act::Send(data.to_vec())),
        ("bytewise".to_owned(), Act::SendBytewise(data.to_vec())),
    ];
    for seed in 1..=3 {
        out.push((
            format!("split-{seed}"),
            Act::SendSplit(data.to_vec(), cuts(seed, 32, 7)),
        ));
    }
    out
}

/// Connects to a peer that sends `data` in the given way and then closes.
async fn sock_for(act: Act) -> (TcpSock, Peer) {
    let peer = Peer::spawn(vec![act]);
    let sock = TcpSock::default();
    sock.settimeout(2000).unwrap();
    sock.connect_to(&peer.target()).await.unwrap();
    (sock, peer)
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn lines_bytes_all_under_every_chunking() {
    let data = b"first\r\nse\rcond\n\nABCDEFGHIJtail data\r\n without newline";
    for (name, act) in chunkings(data) {
        run(async {
            let (sock, _peer) = sock_for(act).await;
            assert_eq!(sock.receive_line().await.unwrap(), b("first"), "{name}");
            assert_eq!(sock.receive_line().await.unwrap(), b("second"), "{name}");
            assert_eq!(sock.receive_line().await.unwrap(), b(""), "{name}");
            assert_eq!(sock.receive_bytes(4).await.unwrap(), b("ABCD"), "{name}");
            assert_eq!(sock.receive_bytes(0).await.unwrap(), b(""), "{name}");
            assert_eq!(sock.receive_bytes(6).await.unwrap(), b("EFGHIJ"), "{name}");
            assert_eq!(
                sock.receive_all().await.unwrap(),
                b("tail data\r\n without newline"),
                "{name}"
            );
            // `*a` at EOF again succeeds with nothing; a sized read fails.
            assert_eq!(sock.receive_all().await.unwrap(), b(""), "{name}");
            let err = sock.receive_bytes(1).await.unwrap_err();
            assert_eq!(err, (SockError::Closed, Some(b(""))), "{name}");
            // The read half is now closed: refused before reading.
            assert_eq!(
                sock.receive_line().await.unwrap_err(),
                (SockError::Closed, None),
                "{name}"
            );
        });
    }
}

#[test]
fn partial_data_on_eof() {
    let data = b"no newline \r here";
    for (name, act) in chunkings(data) {
        run(async {
            let (sock, _peer) = sock_for(act).await;
            let (err, partial) = sock.receive_line().await.unwrap_err();
            assert_eq!(
                (err, partial),
                (SockError::Closed, Some(b("no newline  here"))),
                "{name}"
            );
        });
        run(async {
            let (sock, _peer) = sock_for(Act::Send(data.to_vec())).await;
            let (err, partial) = sock.receive_bytes(100).await.unwrap_err();
            assert_eq!(
                (err, partial),
                (SockError::Closed, Some(b("no newline \r here"))),
                "{name}"
            );
        });
    }
}

#[test]
fn receive_any_returns_what_is_there() {
    let data: Vec<u8> = (0..200u8).collect();
    for (name, act) in chunkings(&data) {
        run(async {
            let (sock, _peer) = sock_for(act).await;
            let mut got = Vec::new();
            loop {
                match sock.receive_any(7).await {
                    Ok(chunk) => {
                        assert!(!chunk.is_empty() && chunk.len() <= 7, "{name}");
                        got.extend_from_slice(&chunk);
                    }
                    Err(e) => {
                        assert_eq!(e, (SockError::Closed, Some(Bytes::new())), "{name}");
                        break;
                    }
                }
            }
            assert_eq!(got, data, "{name}");
        });
    }
}

#[test]
fn receive_until_under_every_chunking() {
    let data = b"hello, world! -agentzh\r\n--abcedhb blah--abc--abc--abd!rest";
    for (name, act) in chunkings(data) {
        run(async {
            let (sock, _peer) = sock_for(act).await;
            let boundary = ReceiveUntil::new(b"\r\n--abcedhb", false).unwrap();
            let mut chunks = Vec::new();
            while let Some(c) = sock.receive_until(&boundary, 4).await.unwrap() {
                chunks.push(c);
            }
            assert_eq!(
                chunks,
                ["hell", "o, w", "orld", "! -a", "gent", "zh"].map(b),
                "{name}"
            );
            let tricky = ReceiveUntil::new(b"--abc--abd", true).unwrap();
            assert_eq!(
                sock.receive_until(&tricky, 0).await.unwrap().unwrap(),
                b(" blah--abc--abc--abd"),
                "{name}"
            );
            // Mixed freely with other receive calls.
            assert_eq!(sock.receive_bytes(1).await.unwrap(), b("!"), "{name}");
            let missing = ReceiveUntil::new(b"zz", false).unwrap();
            let err = sock.receive_until(&missing, 0).await.unwrap_err();
            assert_eq!(err, (SockError::Closed, Some(b("rest"))), "{name}");
        });
    }
}

#[test]
fn unix_domain_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("peer.sock");
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let server = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        s.write_all(b"got ").unwrap();
        s.write_all(&buf).unwrap();
        s.write_all(b"\n").unwrap();
    });
    run(async {
        let sock = TcpSock::default();
        let target = Target::parse(&format!("unix:{}", path.display()), None).unwrap();
        sock.connect_to(&target).await.unwrap();
        assert_eq!(sock.send(b"hello").await.unwrap(), 5);
        assert_eq!(sock.receive_line().await.unwrap(), b("got hello"));
        assert_eq!(sock.receive_all().await.unwrap(), b(""));
    });
    server.join().unwrap();
}

#[test]
fn peer_reset_reports_connection_reset() {
    run(async {
        let peer = Peer::spawn(vec![send("abc"), Act::Sleep(ms(30)), Act::Reset]);
        let sock = TcpSock::default();
        sock.connect_to(&peer.target()).await.unwrap();
        let (err, partial) = sock.receive_bytes(10).await.unwrap_err();
        assert_eq!(err, SockError::ConnectionReset);
        assert_eq!(partial, Some(b("abc")));
        assert_eq!(
            sock.receive_bytes(1).await.unwrap_err(),
            (SockError::Closed, None)
        );
        // The write half is still open, as in OpenResty; the kernel refuses.
        let sent = sock.send(b"x").await;
        assert!(
            matches!(
                sent,
                Err(SockError::BrokenPipe | SockError::ConnectionReset)
            ),
            "{sent:?}"
        );
        assert_eq!(sock.close(), Err(SockError::Closed));
    });
}

#[test]
fn half_closed_peer_still_reads() {
    run(async {
        let peer = Peer::spawn(vec![send("bye"), Act::ShutdownWrite, Act::Read(4)]);
        let sock = TcpSock::default();
        sock.connect_to(&peer.target()).await.unwrap();
        assert_eq!(sock.receive_all().await.unwrap(), b("bye"));
        assert_eq!(sock.send(b"ack!").await.unwrap(), 4);
        assert_eq!(peer.join(), b"ack!");
        assert_eq!(sock.close(), Ok(()));
        assert_eq!(sock.close(), Err(SockError::Closed));
    });
}

#[test]
fn unconnected_socket_is_closed() {
    run(async {
        let sock = TcpSock::default();
        assert_eq!(
            sock.receive_line().await.unwrap_err(),
            (SockError::Closed, None)
        );
        assert_eq!(sock.send(b"x").await.unwrap_err(), SockError::Closed);
        assert_eq!(sock.close(), Err(SockError::Closed));
        assert_eq!(sock.reused_times(), Err(SockError::Closed));
    });
}
