//! Client TLS for `tcpsock:sslhandshake`, on rustls with the ring provider.
//!
//! OpenResty runs the handshake without verification and only afterwards,
//! if `ssl_verify` is true, checks `SSL_get_verify_result` (reporting
//! `"%d: %s"` with OpenSSL's code and text) and then the host name
//! (`certificate host mismatch`, only when a server name was given). The
//! verifier below makes the same decisions in the same order and carries the
//! same strings out through rustls's error. Mapped codes (OpenSSL 3 texts):
//!
//! | rustls finding | err |
//! |---|---|
//! | unknown issuer, lone self-signed leaf | `18: self-signed certificate` |
//! | unknown issuer, self-signed cert in the chain | `19: self-signed certificate in certificate chain` |
//! | unknown issuer otherwise | `20: unable to get local issuer certificate` |
//! | expired / not yet valid | `10: certificate has expired` / `9: certificate is not yet valid` |
//! | bad signature | `7: certificate signature failure` |
//! | more CAs than `lua_ssl_verify_depth` allows | `22: certificate chain too long` |
//! | revoked / wrong purpose | `23: certificate revoked` / `26: unsupported certificate purpose` |
//! | name not in the certificate | `certificate host mismatch` |
//! | anything else (alerts, protocol errors, EOF) | `handshake failed` |
//!
//! The handshake is bounded by the connect timeout (`timeout`), as in
//! lua-nginx-module.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_cert_signed_by_trust_anchor, verify_server_name};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, OtherError, RootCertStore,
    SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::TlsConnector;

use crate::conn::{Busy, Conn};
use crate::error::SockError;
use crate::io::{Io, SharedPlain};

/// What `lua_ssl_trusted_certificate` / `lua_ssl_verify_depth` configure.
#[derive(Debug, Clone)]
pub struct TlsOptions {
    /// PEM files whose certificates are trusted roots.
    pub trusted_certificates: Vec<PathBuf>,
    /// How many CA certificates above the leaf a chain may have
    /// (`lua_ssl_verify_depth`, default 1).
    pub verify_depth: u32,
    /// Also trust the Mozilla roots from `webpki-roots`. OpenResty trusts
    /// nothing by default, so this is off unless asked for.
    pub webpki_roots: bool,
}

impl Default for TlsOptions {
    fn default() -> Self {
        TlsOptions {
            trusted_certificates: Vec::new(),
            verify_depth: 1,
            webpki_roots: false,
        }
    }
}

/// Ready-built client configurations; build one per distinct
/// [`TlsOptions`] and share it, since each holds its own session cache.
#[derive(Clone)]
pub struct TlsContext {
    no_verify: Arc<ClientConfig>,
    verify_chain: Arc<ClientConfig>,
    verify_chain_and_name: Arc<ClientConfig>,
}

impl fmt::Debug for TlsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsContext")
    }
}

impl TlsContext {
    /// # Errors
    /// An unreadable file, or one with no usable certificate: a
    /// configuration error the server reports at startup.
    pub fn new(opts: &TlsOptions) -> io::Result<TlsContext> {
        let mut roots = RootCertStore::empty();
        if opts.webpki_roots {
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for path in &opts.trusted_certificates {
            let bad = |e: &dyn fmt::Display| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            };
            let mut added = 0;
            for cert in CertificateDer::pem_file_iter(path).map_err(|e| bad(&e))? {
                roots.add(cert.map_err(|e| bad(&e))?).map_err(|e| bad(&e))?;
                added += 1;
            }
            if added == 0 {
                return Err(bad(&"no certificate found"));
            }
        }
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let build = |verify: bool, check_name: bool| -> io::Result<Arc<ClientConfig>> {
            let verifier = Verifier {
                roots: roots.clone(),
                verify,
                check_name,
                depth: opts.verify_depth,
                algs: provider.signature_verification_algorithms,
            };
            let config = ClientConfig::builder_with_provider(provider.clone())
                .with_safe_default_protocol_versions()
                .map_err(|e| io::Error::other(e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(verifier))
                .with_no_client_auth();
            Ok(Arc::new(config))
        };
        Ok(TlsContext {
            no_verify: build(false, false)?,
            verify_chain: build(true, false)?,
            verify_chain_and_name: build(true, true)?,
        })
    }

    fn config(&self, verify: bool, name_given: bool) -> Arc<ClientConfig> {
        match (verify, name_given) {
            (false, _) => self.no_verify.clone(),
            (true, false) => self.verify_chain.clone(),
            (true, true) => self.verify_chain_and_name.clone(),
        }
    }
}

impl Conn {
    pub(crate) async fn ssl_handshake(
        &self,
        ctx: &TlsContext,
        server_name: Option<&str>,
        verify: bool,
        timeout: Duration,
    ) -> Result<(), SockError> {
        if !self.is_open() {
            return Err(SockError::Closed);
        }
        self.check_idle()?;
        let Some(io) = self.io() else {
            return Err(SockError::Closed);
        };
        if io.is_tls() {
            return Ok(());
        }
        let _busy = Busy::enter(&self.handshaking, SockError::BusyConnecting)?;
        let name = match server_name {
            Some(n) => {
                ServerName::try_from(n.to_owned()).map_err(|_| SockError::HandshakeFailed)?
            }
            // No name: no SNI and no host check, like OpenResty.
            None => ServerName::IpAddress(self.peer_ip().into()),
        };
        let prefix = std::mem::take(&mut *self.rbuf.borrow_mut());
        let plain = io.plain_stream().clone();
        drop(io);
        let connector = TlsConnector::from(ctx.config(verify, server_name.is_some()));
        // A handshake that fails or is abandoned midway leaves the byte
        // stream unusable, so the connection is closed unless it succeeds.
        let guard = CloseOnDrop(Some(self));
        let handshake = connector.connect(name, SharedPlain::new(plain.clone(), prefix));
        let stream = match tokio::time::timeout(timeout, handshake).await {
            Err(_) => return Err(SockError::Timeout),
            Ok(Err(e)) => return Err(handshake_error(&e)),
            Ok(Ok(s)) => s,
        };
        self.set_io(Io::tls(plain, stream));
        guard.disarm();
        Ok(())
    }
}

struct CloseOnDrop<'a>(Option<&'a Conn>);

impl CloseOnDrop<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.0 {
            conn.close();
        }
    }
}

/// The verifier's own findings come back wrapped in rustls's error; all
/// other failures are what OpenResty calls `handshake failed`.
fn handshake_error(e: &io::Error) -> SockError {
    let found = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .and_then(|err| match err {
            rustls::Error::InvalidCertificate(CertificateError::Other(other)) => {
                other.0.downcast_ref::<VerifyFailure>().map(|f| f.0.clone())
            }
            _ => None,
        });
    found.unwrap_or(SockError::HandshakeFailed)
}

#[derive(Debug)]
struct VerifyFailure(SockError);

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for VerifyFailure {}

fn reject(e: SockError) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
        VerifyFailure(e),
    ))))
}

fn x509(code: u32, reason: &'static str) -> SockError {
    SockError::CertVerify { code, reason }
}

#[derive(Debug)]
struct Verifier {
    roots: Arc<RootCertStore>,
    verify: bool,
    check_name: bool,
    depth: u32,
    algs: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if !self.verify {
            return Ok(ServerCertVerified::assertion());
        }
        let cert = ParsedCertificate::try_from(end_entity)
            .map_err(|_| reject(SockError::HandshakeFailed))?;
        if let Err(e) = verify_server_cert_signed_by_trust_anchor(
            &cert,
            &self.roots,
            intermediates,
            now,
            self.algs.all,
        ) {
            return Err(reject(chain_error(&e, end_entity, intermediates)));
        }
        let leaf_is_root = intermediates.is_empty() && der::is_self_issued(end_entity);
        let cas = intermediates
            .iter()
            .filter(|c| !der::is_self_issued(c))
            .count()
            + usize::from(!leaf_is_root);
        if cas > self.depth as usize {
            return Err(reject(x509(22, "certificate chain too long")));
        }
        if self.check_name && verify_server_name(&cert, server_name).is_err() {
            return Err(reject(SockError::HostMismatch));
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algs.supported_schemes()
    }
}

fn chain_error(
    e: &rustls::Error,
    leaf: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
) -> SockError {
    let rustls::Error::InvalidCertificate(ce) = e else {
        return SockError::HandshakeFailed;
    };
    match ce {
        CertificateError::UnknownIssuer => {
            if intermediates.is_empty() && der::is_self_issued(leaf) {
                x509(18, "self-signed certificate")
            } else if intermediates.iter().any(|c| der::is_self_issued(c)) {
                x509(19, "self-signed certificate in certificate chain")
            } else {
                SockError::UNKNOWN_ISSUER
            }
        }
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            x509(10, "certificate has expired")
        }
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
            x509(9, "certificate is not yet valid")
        }
        CertificateError::BadSignature => x509(7, "certificate signature failure"),
        CertificateError::Revoked => x509(23, "certificate revoked"),
        CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
            x509(26, "unsupported certificate purpose")
        }
        _ => SockError::HandshakeFailed,
    }
}

/// Just enough DER to tell whether a certificate names itself as its issuer,
/// which is how OpenSSL picks between "self-signed certificate" (18/19) and
/// "unable to get local issuer certificate" (20). webpki does not say.
mod der {
    /// Splits one tag-length-value off `input`: (tag, value, rest).
    fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
        let (&tag, rest) = input.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, &rest[n..])
        };
        (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
    }

    /// Issuer and subject of a certificate, as raw encoded Names.
    fn issuer_and_subject(cert: &[u8]) -> Option<(&[u8], &[u8])> {
        const SEQUENCE: u8 = 0x30;
        let (SEQUENCE, cert, _) = tlv(cert)? else {
            return None;
        };
        let (SEQUENCE, tbs, _) = tlv(cert)? else {
            return None;
        };
        let (tag, _, mut rest) = tlv(tbs)?;
        if tag == 0xa0 {
            // Explicit version; the serial number follows.
            (_, _, rest) = tlv(rest)?;
        }
        let (_, _, rest) = tlv(rest)?; // signature algorithm
        let (SEQUENCE, issuer, rest) = tlv(rest)? else {
            return None;
        };
        let (_, _, rest) = tlv(rest)?; // validity
        let (SEQUENCE, subject, _) = tlv(rest)? else {
            return None;
        };
        Some((issuer, subject))
    }

    /// Unparsable input counts as not self-issued.
    pub(crate) fn is_self_issued(cert: &[u8]) -> bool {
        issuer_and_subject(cert).is_some_and(|(i, s)| i == s)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn tlv_lengths() {
            assert_eq!(
                tlv(&[0x02, 0x01, 0x05, 0xff]),
                Some((0x02, &[0x05][..], &[0xff][..]))
            );
            let long = [&[0x04, 0x81, 0x80][..], &[7u8; 0x80]].concat();
            let (tag, value, rest) = tlv(&long).unwrap();
            assert_eq!((tag, value.len(), rest.len()), (0x04, 0x80, 0));
            assert_eq!(tlv(&[0x04, 0x05, 1, 2]), None);
        }

        #[test]
        fn garbage_is_not_self_issued() {
            assert!(!is_self_issued(b""));
            assert!(!is_self_issued(&[0x30, 0x03, 0x02, 0x01, 0x00]));
        }
    }
}
