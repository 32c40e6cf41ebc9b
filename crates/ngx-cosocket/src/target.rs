//! Where a cosocket connects, and OpenResty's rules for the `connect`
//! arguments. Name resolution belongs to the server: a host name comes back
//! as [`SockError::NoResolver`], which the server either returns as is (no
//! `resolver` directive) or answers by resolving and connecting to the
//! address it picked.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::error::SockError;

/// A connect target with every name already resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Inet(SocketAddr),
    Unix(PathBuf),
}

impl Target {
    /// Reads `connect(host, port)` / `connect("unix:/path")` arguments.
    ///
    /// # Errors
    /// `bad port number: N`, `missing the port number`, and
    /// `no resolver defined to resolve "HOST"` for anything that is not an
    /// IP literal.
    pub fn parse(host: &str, port: Option<i64>) -> Result<Target, SockError> {
        if let Some(p) = port {
            if !(0..=65535).contains(&p) {
                return Err(SockError::BadPort(p));
            }
        }
        if let Some(path) = strip_unix_prefix(host) {
            return Ok(Target::Unix(PathBuf::from(path)));
        }
        let Some(port) = port else {
            return Err(SockError::MissingPort);
        };
        let literal = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        match literal.parse::<IpAddr>() {
            Ok(ip) => Ok(Target::Inet(SocketAddr::new(ip, port as u16))),
            Err(_) => Err(SockError::NoResolver(host.to_owned())),
        }
    }

    /// The pool key OpenResty derives when no `pool` option is given:
    /// `"host:port"` with the host exactly as the caller wrote it, or the
    /// `unix:` string itself.
    pub fn default_pool_key(host: &str, port: Option<i64>) -> String {
        match port {
            Some(p) if strip_unix_prefix(host).is_none() => format!("{host}:{p}"),
            _ => host.to_owned(),
        }
    }
}

fn strip_unix_prefix(host: &str) -> Option<&str> {
    let prefix = host.get(..5)?;
    prefix.eq_ignore_ascii_case("unix:").then(|| &host[5..])
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Inet(addr) => write!(f, "{addr}"),
            Target::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}

/// Per-socket timeouts. Send and read timeouts bound each wait for progress
/// (nginx re-arms its event timer after every partial read or write); the
/// connect timeout bounds the whole connect, a queued connect's wait in a
/// pool backlog, and the TLS handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub send: Duration,
    pub read: Duration,
}

impl Default for Timeouts {
    /// `lua_socket_connect_timeout`, `lua_socket_send_timeout` and
    /// `lua_socket_read_timeout` all default to 60s.
    fn default() -> Self {
        let t = Duration::from_secs(60);
        Timeouts {
            connect: t,
            send: t,
            read: t,
        }
    }
}

impl Timeouts {
    /// One `settimeout`/`settimeouts` argument: a positive value in ms sets
    /// the timeout, 0 restores the configured default (OpenResty does not
    /// mean "no timeout" by 0).
    ///
    /// # Errors
    /// `bad timeout value` when negative or 2^31 ms or more, which
    /// lua-nginx-module raises as a Lua error.
    pub fn pick(ms: i64, default: Duration) -> Result<Duration, SockError> {
        match ms {
            0 => Ok(default),
            1..0x8000_0000 => Ok(Duration::from_millis(ms as u64)),
            _ => Err(SockError::BadTimeout),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_connect_arguments() {
        assert_eq!(
            Target::parse("127.0.0.1", Some(80)).unwrap(),
            Target::Inet("127.0.0.1:80".parse().unwrap())
        );
        assert_eq!(
            Target::parse("[::1]", Some(80)).unwrap(),
            Target::Inet("[::1]:80".parse().unwrap())
        );
        assert_eq!(
            Target::parse("unix:/tmp/a.sock", None).unwrap(),
            Target::Unix("/tmp/a.sock".into())
        );
        assert_eq!(
            Target::parse("127.0.0.1", None).unwrap_err(),
            SockError::MissingPort
        );
        assert_eq!(
            Target::parse("127.0.0.1", Some(70000))
                .unwrap_err()
                .to_string(),
            "bad port number: 70000"
        );
        assert_eq!(
            Target::parse("example.com", Some(80))
                .unwrap_err()
                .to_string(),
            "no resolver defined to resolve \"example.com\""
        );
    }

    #[test]
    fn pool_keys() {
        assert_eq!(
            Target::default_pool_key("localhost", Some(6379)),
            "localhost:6379"
        );
        assert_eq!(
            Target::default_pool_key("unix:/tmp/r.sock", None),
            "unix:/tmp/r.sock"
        );
    }

    #[test]
    fn timeout_values() {
        let d = Duration::from_secs(60);
        assert_eq!(Timeouts::pick(0, d).unwrap(), d);
        assert_eq!(Timeouts::pick(150, d).unwrap(), Duration::from_millis(150));
        assert_eq!(Timeouts::pick(-1, d).unwrap_err(), SockError::BadTimeout);
        assert_eq!(
            Timeouts::pick(1 << 31, d).unwrap_err(),
            SockError::BadTimeout
        );
    }
}
