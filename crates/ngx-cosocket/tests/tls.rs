//! `sslhandshake` against a local rustls server with throwaway certificates.

mod support;

use std::time::Instant;

use bytes::Bytes;
use ngx_cosocket::{PoolOptions, Pools, SockError, Target, TcpSock, TlsContext, TlsOptions};
use support::tls::{ca_signed, intermediate_signed, self_signed, Certs, TlsServer};
use support::{ms, run, send, Act, Peer};

fn trusting(certs: &Certs) -> TlsContext {
    TlsContext::new(&TlsOptions {
        trusted_certificates: vec![certs.trust_file.clone()],
        ..TlsOptions::default()
    })
    .unwrap()
}

async fn handshake(
    server: &TlsServer,
    ctx: &TlsContext,
    name: Option<&str>,
    verify: bool,
) -> (TcpSock, Result<(), SockError>) {
    let sock = TcpSock::default();
    sock.settimeout(2000).unwrap();
    sock.connect_to(&Target::Inet(server.addr)).await.unwrap();
    let r = sock.ssl_handshake(ctx, name, verify).await;
    (sock, r)
}

#[test]
fn verified_handshake_then_echo() {
    let certs = ca_signed(&["localhost"]);
    let server = TlsServer::start(&certs, 1);
    run(async {
        let (sock, r) = handshake(&server, &trusting(&certs), Some("localhost"), true).await;
        r.unwrap();
        assert!(sock.is_tls());
        // A second handshake on a TLS socket is a no-op.
        sock.ssl_handshake(&trusting(&certs), Some("localhost"), true)
            .await
            .unwrap();
        sock.send(b"over tls\r\n").await.unwrap();
        assert_eq!(sock.receive_line().await.unwrap(), Bytes::from("over tls"));
        sock.close().unwrap();
    });
}

#[test]
fn verify_off_accepts_anything() {
    let certs = self_signed(&["localhost"]);
    let server = TlsServer::start(&certs, 1);
    run(async {
        let ctx = TlsContext::new(&TlsOptions::default()).unwrap();
        let (sock, r) = handshake(&server, &ctx, Some("not-the-name.example"), false).await;
        r.unwrap();
        sock.send(b"ping\n").await.unwrap();
        assert_eq!(sock.receive_line().await.unwrap(), Bytes::from("ping"));
    });
}

#[test]
fn verify_failures_use_openssl_texts() {
    let certs = ca_signed(&["localhost"]);
    let selfie = self_signed(&["localhost"]);
    let server = TlsServer::start(&certs, 3);
    let self_server = TlsServer::start(&selfie, 1);
    run(async {
        let empty = TlsContext::new(&TlsOptions::default()).unwrap();
        let (sock, r) = handshake(&server, &empty, Some("localhost"), true).await;
        assert_eq!(
            r.unwrap_err().to_string(),
            "20: unable to get local issuer certificate"
        );
        // A failed handshake closes the connection.
        assert_eq!(sock.send(b"x").await, Err(SockError::Closed));

        let unrelated = TlsContext::new(&TlsOptions {
            trusted_certificates: vec![certs.other_ca_file.clone()],
            ..TlsOptions::default()
        })
        .unwrap();
        let (_, r) = handshake(&server, &unrelated, Some("localhost"), true).await;
        assert_eq!(r, Err(SockError::UNKNOWN_ISSUER));

        let (_, r) = handshake(&self_server, &empty, Some("localhost"), true).await;
        assert_eq!(r.unwrap_err().to_string(), "18: self-signed certificate");

        let (_, r) = handshake(&server, &trusting(&certs), Some("wrong.example"), true).await;
        assert_eq!(r.unwrap_err().to_string(), "certificate host mismatch");
    });
}

#[test]
fn verify_depth_limits_the_chain() {
    let certs = intermediate_signed(&["localhost"]);
    let server = TlsServer::start(&certs, 2);
    run(async {
        // lua_ssl_verify_depth 1 (the default) allows one CA above the leaf.
        let (_, r) = handshake(&server, &trusting(&certs), Some("localhost"), true).await;
        assert_eq!(r.unwrap_err().to_string(), "22: certificate chain too long");
        let deeper = TlsOptions {
            trusted_certificates: vec![certs.trust_file.clone()],
            verify_depth: 2,
            webpki_roots: false,
        };
        let (_, r) = handshake(
            &server,
            &TlsContext::new(&deeper).unwrap(),
            Some("localhost"),
            true,
        )
        .await;
        r.unwrap();
    });
}

#[test]
fn no_server_name_means_no_host_check() {
    let certs = ca_signed(&["some.other.name"]);
    let server = TlsServer::start(&certs, 1);
    run(async {
        let (sock, r) = handshake(&server, &trusting(&certs), None, true).await;
        r.unwrap();
        sock.send(b"ok\n").await.unwrap();
        assert_eq!(sock.receive_line().await.unwrap(), Bytes::from("ok"));
    });
}

#[test]
fn self_signed_leaf_trusted_directly() {
    let certs = self_signed(&["localhost"]);
    let server = TlsServer::start(&certs, 1);
    run(async {
        let (_, r) = handshake(&server, &trusting(&certs), Some("localhost"), true).await;
        r.unwrap();
    });
}

#[test]
fn handshake_with_a_non_tls_peer_fails() {
    run(async {
        let ctx = TlsContext::new(&TlsOptions::default()).unwrap();
        let peer = Peer::spawn(vec![
            send("HTTP/1.0 400 Bad Request\r\n\r\n"),
            Act::Sleep(ms(200)),
        ]);
        let sock = TcpSock::default();
        sock.connect_to(&peer.target()).await.unwrap();
        assert_eq!(
            sock.ssl_handshake(&ctx, None, false).await,
            Err(SockError::HandshakeFailed)
        );
        assert!(!sock.is_connected());

        let silent = Peer::spawn(vec![Act::Sleep(ms(3000))]);
        let sock = TcpSock::default();
        sock.settimeouts(100, 1000, 1000).unwrap();
        sock.connect_to(&silent.target()).await.unwrap();
        let started = Instant::now();
        assert_eq!(
            sock.ssl_handshake(&ctx, None, false).await,
            Err(SockError::Timeout)
        );
        assert!(started.elapsed() >= ms(100));
    });
}

#[test]
fn tls_duplex_reader_and_writer() {
    let certs = ca_signed(&["localhost"]);
    let server = TlsServer::start(&certs, 1);
    run(async {
        let (sock, r) = handshake(&server, &trusting(&certs), Some("localhost"), true).await;
        r.unwrap();
        let n = 300;
        let reader = async {
            let mut count = 0;
            for i in 0..n {
                assert_eq!(
                    sock.receive_line().await.unwrap(),
                    Bytes::from(format!("msg {i}"))
                );
                count += 1;
            }
            count
        };
        let writer = async {
            for i in 0..n {
                sock.send(format!("msg {i}\n").as_bytes()).await.unwrap();
            }
        };
        let (count, ()) = tokio::join!(reader, writer);
        assert_eq!(count, n);
        let first = sock.receive_line();
        tokio::pin!(first);
        tokio::select! {
            biased;
            _ = &mut first => panic!("nothing was sent"),
            busy = sock.receive_bytes(1) => assert_eq!(busy.unwrap_err(), (SockError::BusyReading, None)),
        }
    });
}

#[test]
fn tls_connections_are_pooled() {
    let certs = ca_signed(&["localhost"]);
    let server = TlsServer::start(&certs, 1);
    run(async {
        let pools = Pools::default();
        let ctx = trusting(&certs);
        for round in 0..3u32 {
            let sock = TcpSock::default();
            let addr = server.addr;
            sock.connect(&pools, "tls-pool", PoolOptions::default(), || async move {
                Ok(Target::Inet(addr))
            })
            .await
            .unwrap();
            assert_eq!(sock.reused_times(), Ok(round));
            assert_eq!(sock.is_tls(), round > 0);
            sock.ssl_handshake(&ctx, Some("localhost"), true)
                .await
                .unwrap();
            sock.send(b"again\n").await.unwrap();
            assert_eq!(sock.receive_line().await.unwrap(), Bytes::from("again"));
            sock.set_keepalive(&pools, None, None).unwrap();
        }
    });
}

#[test]
fn bad_trust_file_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.pem");
    std::fs::write(&path, "not a certificate").unwrap();
    let opts = TlsOptions {
        trusted_certificates: vec![path],
        ..TlsOptions::default()
    };
    assert!(TlsContext::new(&opts).is_err());
    let missing = TlsOptions {
        trusted_certificates: vec![dir.path().join("nope.pem")],
        ..TlsOptions::default()
    };
    assert!(TlsContext::new(&missing).is_err());
}
