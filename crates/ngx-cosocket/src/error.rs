//! The error values a cosocket operation returns, displayed exactly as
//! lua-nginx-module phrases them, because Lua code compares these strings
//! (`if err == "timeout"`, `err == "closed"`).

use std::fmt;
use std::io;

/// One cosocket failure. `Display` gives OpenResty's exact `err` string.
///
/// Errno-based failures print like nginx's `ngx_strerror` lowered to ASCII
/// lowercase (lua-nginx-module does that "for compatibility with LuaSocket").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SockError {
    /// A connect, send or receive did not complete within its timeout.
    Timeout,
    /// The peer closed the stream (EOF where more data was needed), or the
    /// socket (or the needed half of it) is not open.
    Closed,
    /// `ECONNREFUSED`.
    ConnectionRefused,
    /// `ECONNRESET`.
    ConnectionReset,
    /// `EPIPE`.
    BrokenPipe,
    /// `EHOSTUNREACH`.
    NoRouteToHost,
    /// `ENETUNREACH`.
    NetworkUnreachable,
    /// Any other errno, printed as lowercase `strerror`.
    Os(i32),
    /// Another light thread is already receiving on this socket.
    BusyReading,
    /// Another light thread is already sending on this socket.
    BusyWriting,
    /// A connect or TLS handshake is in progress on this socket.
    BusyConnecting,
    /// A pool with a `backlog` has `pool_size` connections and `backlog`
    /// queued connects already.
    TooManyWaiting,
    /// `setkeepalive` found the peer had sent data (or closed) meanwhile.
    DubiousState,
    /// `setkeepalive` with received-but-unread data in the socket's buffer.
    UnreadData,
    /// `setkeepalive` on a connection that already saw EOF or an error.
    InvalidConnection,
    /// A host name where an address was needed and no resolver is configured.
    NoResolver(String),
    /// Name resolution failed; the text is the resolver's, e.g.
    /// `example.com could not be resolved (3: Host not found)`.
    Resolve(String),
    /// `connect(host)` without a port and not a `unix:` path.
    MissingPort,
    /// A port outside 0..=65535.
    BadPort(i64),
    /// `settimeout` with a negative value or one of 2^31 ms or more.
    BadTimeout,
    /// A `pool_size` of zero or less.
    BadPoolSize(i64),
    /// A negative `backlog`.
    BadBacklog(i64),
    /// `receiveuntil("")`.
    PatternEmpty,
    /// `setoption`/`getoption` with an option name it does not know.
    UnsupportedOption(String),
    /// The TLS handshake failed for a reason other than certificate checks
    /// (protocol error, alert from the peer, peer closed mid-handshake).
    HandshakeFailed,
    /// `ssl_verify` with a server name the certificate does not cover.
    HostMismatch,
    /// `ssl_verify` and the chain did not verify: OpenSSL's
    /// `X509_V_ERR_*` code and its OpenSSL 3 text, e.g.
    /// `20: unable to get local issuer certificate`.
    CertVerify { code: u32, reason: &'static str },
}

impl SockError {
    /// The only error after which a socket stays usable (reads only).
    pub fn is_timeout(&self) -> bool {
        matches!(self, SockError::Timeout)
    }

    /// `X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY`.
    pub const UNKNOWN_ISSUER: SockError = SockError::CertVerify {
        code: 20,
        reason: "unable to get local issuer certificate",
    };
}

impl fmt::Display for SockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SockError::Timeout => f.write_str("timeout"),
            SockError::Closed => f.write_str("closed"),
            SockError::ConnectionRefused => f.write_str("connection refused"),
            SockError::ConnectionReset => f.write_str("connection reset by peer"),
            SockError::BrokenPipe => f.write_str("broken pipe"),
            SockError::NoRouteToHost => f.write_str("no route to host"),
            SockError::NetworkUnreachable => f.write_str("network is unreachable"),
            SockError::Os(errno) => f.write_str(&strerror_lower(*errno)),
            SockError::BusyReading => f.write_str("socket busy reading"),
            SockError::BusyWriting => f.write_str("socket busy writing"),
            SockError::BusyConnecting => f.write_str("socket busy connecting"),
            SockError::TooManyWaiting => f.write_str("too many waiting connect operations"),
            SockError::DubiousState => f.write_str("connection in dubious state"),
            SockError::UnreadData => f.write_str("unread data in buffer"),
            SockError::InvalidConnection => f.write_str("invalid connection"),
            SockError::NoResolver(host) => write!(f, "no resolver defined to resolve \"{host}\""),
            SockError::Resolve(msg) => f.write_str(msg),
            SockError::MissingPort => f.write_str("missing the port number"),
            SockError::BadPort(p) => write!(f, "bad port number: {p}"),
            SockError::BadTimeout => f.write_str("bad timeout value"),
            SockError::BadPoolSize(n) => write!(f, "bad \"pool_size\" option value: {n}"),
            SockError::BadBacklog(n) => write!(f, "bad \"backlog\" option value: {n}"),
            SockError::PatternEmpty => f.write_str("pattern is empty"),
            SockError::UnsupportedOption(o) => write!(f, "unsupported option {o}"),
            SockError::HandshakeFailed => f.write_str("handshake failed"),
            SockError::HostMismatch => f.write_str("certificate host mismatch"),
            SockError::CertVerify { code, reason } => write!(f, "{code}: {reason}"),
        }
    }
}

impl std::error::Error for SockError {}

impl From<io::Error> for SockError {
    fn from(e: io::Error) -> Self {
        if let Some(errno) = e.raw_os_error() {
            return from_errno(errno);
        }
        // Errors built by tokio or by us carry no errno; their kind is all
        // there is to go on.
        match e.kind() {
            io::ErrorKind::ConnectionRefused => SockError::ConnectionRefused,
            io::ErrorKind::ConnectionReset => SockError::ConnectionReset,
            io::ErrorKind::BrokenPipe => SockError::BrokenPipe,
            io::ErrorKind::UnexpectedEof | io::ErrorKind::WriteZero => SockError::Closed,
            io::ErrorKind::TimedOut => SockError::Timeout,
            _ => SockError::Os(libc::EIO),
        }
    }
}

fn from_errno(errno: i32) -> SockError {
    match errno {
        libc::ECONNREFUSED => SockError::ConnectionRefused,
        libc::ECONNRESET => SockError::ConnectionReset,
        libc::EPIPE => SockError::BrokenPipe,
        libc::EHOSTUNREACH => SockError::NoRouteToHost,
        libc::ENETUNREACH => SockError::NetworkUnreachable,
        other => SockError::Os(other),
    }
}

/// std already knows the platform's `strerror` text; it appends
/// " (os error N)", which nginx does not print.
fn strerror_lower(errno: i32) -> String {
    let text = io::Error::from_raw_os_error(errno).to_string();
    let text = match text.rfind(" (os error ") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    text.to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_openresty_strings() {
        let cases: &[(SockError, &str)] = &[
            (SockError::Timeout, "timeout"),
            (SockError::Closed, "closed"),
            (SockError::ConnectionRefused, "connection refused"),
            (SockError::ConnectionReset, "connection reset by peer"),
            (SockError::BrokenPipe, "broken pipe"),
            (SockError::NoRouteToHost, "no route to host"),
            (SockError::NetworkUnreachable, "network is unreachable"),
            (SockError::BusyReading, "socket busy reading"),
            (SockError::BusyWriting, "socket busy writing"),
            (SockError::BusyConnecting, "socket busy connecting"),
            (
                SockError::TooManyWaiting,
                "too many waiting connect operations",
            ),
            (SockError::DubiousState, "connection in dubious state"),
            (SockError::UnreadData, "unread data in buffer"),
            (
                SockError::NoResolver("example.com".into()),
                "no resolver defined to resolve \"example.com\"",
            ),
            (
                SockError::BadPoolSize(0),
                "bad \"pool_size\" option value: 0",
            ),
            (SockError::HandshakeFailed, "handshake failed"),
            (SockError::HostMismatch, "certificate host mismatch"),
            (
                SockError::UNKNOWN_ISSUER,
                "20: unable to get local issuer certificate",
            ),
        ];
        for (err, text) in cases {
            assert_eq!(err.to_string(), *text);
        }
    }

    #[test]
    fn errno_mapping() {
        let map = |n| SockError::from(io::Error::from_raw_os_error(n));
        assert_eq!(map(libc::ECONNREFUSED), SockError::ConnectionRefused);
        assert_eq!(map(libc::ECONNRESET), SockError::ConnectionReset);
        assert_eq!(map(libc::EPIPE), SockError::BrokenPipe);
        assert_eq!(map(libc::EHOSTUNREACH), SockError::NoRouteToHost);
        assert_eq!(map(libc::ENETUNREACH), SockError::NetworkUnreachable);
        assert_eq!(map(libc::ETIMEDOUT).to_string(), "connection timed out");
        assert_eq!(map(libc::ENOENT).to_string(), "no such file or directory");
    }

    #[test]
    fn kind_mapping_without_errno() {
        let e = io::Error::new(io::ErrorKind::ConnectionReset, "x");
        assert_eq!(SockError::from(e), SockError::ConnectionReset);
        let e = io::Error::new(io::ErrorKind::UnexpectedEof, "x");
        assert_eq!(SockError::from(e), SockError::Closed);
    }
}
