//! Host name resolution that never blocks the worker: IP literals,
//! `localhost` and `/etc/hosts` first, then the `resolver` servers over UDP
//! (A, and AAAA with `ipv6=on`), with a per-worker cache honouring TTLs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The `resolver` directive.
#[derive(Debug, Clone)]
pub struct ResolverConf {
    pub servers: Vec<SocketAddr>,
    /// `valid=`: overrides record TTLs.
    pub valid: Option<Duration>,
    pub ipv6: bool,
}

/// Parse `resolver ADDR... [valid=T] [ipv6=on|off]` arguments.
pub fn parse_resolver(args: &[&str]) -> Result<ResolverConf, String> {
    let mut c = ResolverConf {
        servers: Vec::new(),
        valid: None,
        ipv6: true,
    };
    for a in args {
        if let Some(v) = a.strip_prefix("valid=") {
            let ms = crate::config::parse_time_ms(v)
                .ok_or_else(|| format!("invalid parameter \"{a}\""))?;
            c.valid = Some(Duration::from_millis(ms));
        } else if let Some(v) = a.strip_prefix("ipv6=") {
            c.ipv6 = match v {
                "on" => true,
                "off" => false,
                _ => return Err(format!("invalid parameter \"{a}\"")),
            };
        } else if a.starts_with("status_zone=") || a.starts_with("local=") {
        } else {
            let addr = if let Ok(sa) = a.parse::<SocketAddr>() {
                sa
            } else if let Ok(ip) = a
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
            {
                SocketAddr::new(ip, 53)
            } else {
                return Err(format!("invalid resolver address \"{a}\""));
            };
            c.servers.push(addr);
        }
    }
    Ok(c)
}

thread_local! {
    static CACHE: RefCell<HashMap<String, (Vec<IpAddr>, Instant)>> = RefCell::new(HashMap::new());
}

fn hosts() -> &'static HashMap<String, Vec<IpAddr>> {
    static H: OnceLock<HashMap<String, Vec<IpAddr>>> = OnceLock::new();
    H.get_or_init(|| {
        let mut m: HashMap<String, Vec<IpAddr>> = HashMap::new();
        if let Ok(text) = std::fs::read_to_string("/etc/hosts") {
            for line in text.lines() {
                let line = line.split('#').next().unwrap_or("");
                let mut it = line.split_whitespace();
                let Some(ip) = it.next().and_then(|a| a.parse::<IpAddr>().ok()) else {
                    continue;
                };
                for name in it {
                    m.entry(name.to_ascii_lowercase()).or_default().push(ip);
                }
            }
        }
        m
    })
}

/// Resolve without a resolver: literals, `localhost`, /etc/hosts.
pub fn resolve_local(host: &str) -> Option<Vec<IpAddr>> {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = h.parse::<IpAddr>() {
        return Some(vec![ip]);
    }
    let lower = h.to_ascii_lowercase();
    if let Some(ips) = hosts().get(&lower) {
        // prefer IPv4 like nginx's resolver does by default
        let mut v: Vec<IpAddr> = ips.iter().copied().filter(|i| i.is_ipv4()).collect();
        if v.is_empty() {
            v = ips.clone();
        }
        return Some(v);
    }
    if lower == "localhost" {
        return Some(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    }
    None
}

/// Resolve `host`; errors are worded as nginx's resolver reports them.
pub async fn resolve(
    host: &str,
    conf: Option<&ResolverConf>,
    timeout: Duration,
) -> Result<Vec<IpAddr>, String> {
    if let Some(ips) = resolve_local(host) {
        return Ok(ips);
    }
    let Some(conf) = conf.filter(|c| !c.servers.is_empty()) else {
        return Err(format!("no resolver defined to resolve \"{host}\""));
    };
    let key = host.to_ascii_lowercase();
    let cached = CACHE.with(|c| {
        c.borrow()
            .get(&key)
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(v, _)| v.clone())
    });
    if let Some(v) = cached {
        return Ok(v);
    }
    let mut ips = Vec::new();
    let mut ttl = u32::MAX;
    let mut last_err = None;
    let types: &[u16] = if conf.ipv6 { &[1, 28] } else { &[1] };
    for &qtype in types {
        match query(&key, qtype, conf, timeout).await {
            Ok((mut v, t)) => {
                ips.append(&mut v);
                ttl = ttl.min(t);
            }
            Err(e) => last_err = Some(e),
        }
    }
    if ips.is_empty() {
        return Err(match last_err {
            Some(e) => format!("{host} could not be resolved ({e})"),
            None => format!("{host} could not be resolved (3: Host not found)"),
        });
    }
    let life = conf
        .valid
        .unwrap_or(Duration::from_secs(ttl.min(86_400) as u64));
    CACHE.with(|c| {
        c.borrow_mut()
            .insert(key, (ips.clone(), Instant::now() + life))
    });
    Ok(ips)
}

fn build_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut q = Vec::with_capacity(32 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]); // RD, one question
    for label in name.trim_end_matches('.').split('.') {
        q.push(label.len().min(63) as u8);
        q.extend_from_slice(&label.as_bytes()[..label.len().min(63)]);
    }
    q.push(0);
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes());
    q
}

/// Skip a (possibly compressed) name at `pos`; returns the position after it.
fn skip_name(b: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *b.get(pos)? as usize;
        if len == 0 {
            return Some(pos + 1);
        }
        if len & 0xc0 == 0xc0 {
            return Some(pos + 2);
        }
        pos += 1 + len;
    }
}

fn u16_at(b: &[u8], p: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(p)?, *b.get(p + 1)?]))
}

/// Parse the answers of a response: addresses of `qtype` and the smallest TTL.
fn parse_answer(b: &[u8], id: u16, qtype: u16) -> Result<(Vec<IpAddr>, u32), String> {
    if b.len() < 12 || u16_at(b, 0) != Some(id) {
        return Err("unexpected DNS response".into());
    }
    let rcode = b[3] & 0x0f;
    match rcode {
        0 => {}
        3 => return Err("3: Host not found".into()),
        2 => return Err("2: Server failure".into()),
        5 => return Err("5: Operation refused".into()),
        n => return Err(format!("{n}: DNS error")),
    }
    let qd = u16_at(b, 4).unwrap_or(0);
    let an = u16_at(b, 6).unwrap_or(0);
    let mut pos = 12;
    for _ in 0..qd {
        pos = skip_name(b, pos).ok_or("bad DNS response")? + 4;
    }
    let mut out = Vec::new();
    let mut ttl = u32::MAX;
    for _ in 0..an {
        pos = skip_name(b, pos).ok_or("bad DNS response")?;
        let t = u16_at(b, pos).ok_or("bad DNS response")?;
        let rttl = b
            .get(pos + 4..pos + 8)
            .map(|x| u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
            .ok_or("bad DNS response")?;
        let rdlen = u16_at(b, pos + 8).ok_or("bad DNS response")? as usize;
        let data = b
            .get(pos + 10..pos + 10 + rdlen)
            .ok_or("bad DNS response")?;
        if t == qtype && t == 1 && rdlen == 4 {
            out.push(IpAddr::V4(Ipv4Addr::new(
                data[0], data[1], data[2], data[3],
            )));
            ttl = ttl.min(rttl);
        } else if t == qtype && t == 28 && rdlen == 16 {
            let mut a = [0u8; 16];
            a.copy_from_slice(data);
            out.push(IpAddr::V6(Ipv6Addr::from(a)));
            ttl = ttl.min(rttl);
        }
        pos += 10 + rdlen;
    }
    if out.is_empty() {
        return Err("3: Host not found".into());
    }
    Ok((out, ttl))
}

async fn query(
    name: &str,
    qtype: u16,
    conf: &ResolverConf,
    timeout: Duration,
) -> Result<(Vec<IpAddr>, u32), String> {
    let id: u16 = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(7)
        & 0xffff) as u16;
    let q = build_query(id, name, qtype);
    let mut last = String::from("110: Operation timed out");
    for server in &conf.servers {
        let bind: SocketAddr = if server.is_ipv4() {
            "0.0.0.0:0".parse().expect("literal")
        } else {
            "[::]:0".parse().expect("literal")
        };
        let Ok(sock) = tokio::net::UdpSocket::bind(bind).await else {
            continue;
        };
        if sock.connect(server).await.is_err() || sock.send(&q).await.is_err() {
            continue;
        }
        let mut buf = [0u8; 1500];
        match tokio::time::timeout(timeout, sock.recv(&mut buf)).await {
            Ok(Ok(n)) => match parse_answer(&buf[..n], id, qtype) {
                Ok(r) => return Ok(r),
                Err(e) => last = e,
            },
            Ok(Err(_)) => last = "111: Connection refused".into(),
            Err(_) => last = "110: Operation timed out".into(),
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names() {
        assert_eq!(
            resolve_local("127.0.0.1"),
            Some(vec!["127.0.0.1".parse().unwrap()])
        );
        assert_eq!(resolve_local("[::1]"), Some(vec!["::1".parse().unwrap()]));
        assert!(resolve_local("localhost").is_some());
        assert_eq!(resolve_local("no-such-host.invalid"), None);
    }

    #[test]
    fn answers_parse() {
        let q = build_query(0x1234, "a.example", 1);
        let mut r = q.clone();
        r[2] = 0x81;
        r[3] = 0x80;
        r[7] = 1; // one answer
        r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 1, 2, 3]);
        let (ips, ttl) = parse_answer(&r, 0x1234, 1).unwrap();
        assert_eq!(ips, vec!["10.1.2.3".parse::<IpAddr>().unwrap()]);
        assert_eq!(ttl, 60);
        let mut nx = q;
        nx[3] = 0x83;
        assert_eq!(
            parse_answer(&nx, 0x1234, 1).unwrap_err(),
            "3: Host not found"
        );
    }
}
