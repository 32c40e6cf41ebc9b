//! Certificates made on the fly with rcgen, and a blocking rustls server.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

pub struct Certs {
    /// PEM file a client should trust.
    pub trust_file: PathBuf,
    /// A PEM file with an unrelated CA.
    pub other_ca_file: PathBuf,
    pub chain: Vec<CertificateDer<'static>>,
    pub key: Vec<u8>,
    _dir: tempfile::TempDir,
}

fn ca(name: &str) -> (rcgen::Certificate, KeyPair) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    (params.self_signed(&key).unwrap(), key)
}

/// A leaf for `names` signed by a fresh CA; the CA is the trust file.
pub fn ca_signed(names: &[&str]) -> Certs {
    let (ca_cert, ca_key) = ca("cosocket test ca");
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let leaf = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
    finish(vec![leaf.der().clone()], key, &ca_cert.pem())
}

/// A leaf signed by an intermediate CA signed by a root; the server sends
/// leaf + intermediate, the root is the trust file.
pub fn intermediate_signed(names: &[&str]) -> Certs {
    let (root, root_key) = ca("cosocket test root");
    let inter_key = KeyPair::generate().unwrap();
    let mut inter_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    inter_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    inter_params
        .distinguished_name
        .push(DnType::CommonName, "cosocket test intermediate");
    let inter = inter_params
        .signed_by(&inter_key, &root, &root_key)
        .unwrap();
    let key = KeyPair::generate().unwrap();
    let params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    let leaf = params.signed_by(&key, &inter, &inter_key).unwrap();
    finish(
        vec![leaf.der().clone(), inter.der().clone()],
        key,
        &root.pem(),
    )
}

/// A self-signed leaf for `names`, which is also the trust file.
pub fn self_signed(names: &[&str]) -> Certs {
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "self signed leaf");
    let leaf = params.self_signed(&key).unwrap();
    let pem = leaf.pem();
    finish(vec![leaf.der().clone()], key, &pem)
}

fn finish(chain: Vec<CertificateDer<'static>>, key: KeyPair, trust_pem: &str) -> Certs {
    let dir = tempfile::tempdir().unwrap();
    let trust_file = dir.path().join("trusted.pem");
    std::fs::write(&trust_file, trust_pem).unwrap();
    let other_ca_file = dir.path().join("other.pem");
    std::fs::write(&other_ca_file, ca("unrelated ca").0.pem()).unwrap();
    Certs {
        trust_file,
        other_ca_file,
        chain,
        key: key.serialize_der(),
        _dir: dir,
    }
}

fn server_config(certs: &Certs) -> Arc<ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certs.key.clone()));
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs.chain.clone(), key)
        .unwrap();
    Arc::new(config)
}

/// Accepts `conns` connections one after another; on each, completes the
/// handshake and echoes lines until EOF. A failed handshake just ends that
/// connection.
pub struct TlsServer {
    pub addr: SocketAddr,
}

impl TlsServer {
    pub fn start(certs: &Certs, conns: usize) -> TlsServer {
        let config = server_config(certs);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for _ in 0..conns {
                let Ok((tcp, _)) = listener.accept() else {
                    return;
                };
                let config = config.clone();
                thread::spawn(move || {
                    let conn = ServerConnection::new(config).unwrap();
                    let stream = StreamOwned::new(conn, tcp);
                    echo_lines(stream);
                });
            }
        });
        TlsServer { addr }
    }
}

fn echo_lines(stream: StreamOwned<ServerConnection, std::net::TcpStream>) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let s = reader.get_mut();
        if s.write_all(line.as_bytes())
            .and_then(|()| s.flush())
            .is_err()
        {
            return;
        }
    }
}
