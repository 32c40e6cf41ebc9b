//! Runner for moonwire's Test::Nginx-style spec files (`tests/spec/*.t`).
//!
//! Every `=== TEST n: title` block becomes one libtest test named
//! `FILE::TEST n: title` (e.g. `000-sanity::TEST 1: say a string`), so the
//! usual `cargo test -p moonwire --test spec -- FILTER`, `--list`, `--exact`
//! and `--ignored` work.
//!
//! # Format (a subset of Test::Nginx::Socket)
//!
//! Text before the first `===` line is ignored. A block holds sections,
//! `--- name` followed by lines up to the next `--- ` or `=== ` line, or the
//! single-line form `--- name: value`. As in Test::Base, leading and
//! trailing blank lines of a multi-line value are dropped and the value keeps
//! its final newline. A section name may be followed by filters; `chomp`
//! removes that final newline.
//!
//! | section | meaning |
//! | --- | --- |
//! | `main_config`, `http_config`, `config` | pasted into the main, `http {}` and `server {}` contexts |
//! | `user_files` | `>>> path` lines, each followed by the file's content, written under `PREFIX/html/` |
//! | `request` | `METHOD URI [HTTP/1.x]`; further lines are the request body |
//! | `more_headers` | extra `Name: value` request header lines (`Host` / `Connection` here replace the defaults) |
//! | `request_body` | the request body (exactly as written; use `chomp` to drop the final newline) |
//! | `raw_request` | bytes sent instead of `request`: line ends become `\r\n`, `\r \n \t \0 \\ \xHH` escapes are decoded, trailing blank lines are KEPT (they end the header) |
//! | `response_body` | exact body (with the section's final newline) |
//! | `response_body_like`, `response_body_unlike` | PCRE pattern (dot matches newline; the section's final newline is not part of it) |
//! | `error_code` | expected status, 200 when absent |
//! | `response_headers` | `Name: value` exact (several values joined with `, `; empty means absent or empty), `!Name` absent |
//! | `response_headers_like` | `Name: pattern` |
//! | `error_log`, `no_error_log` | lines that must / must not appear in what the request added to the error log |
//! | `log_level` | the `error_log` level (default `debug`) |
//! | `timeout` | client read timeout in seconds (default 10) |
//! | `wait` | seconds to wait after the response before checking the log |
//! | `ignore_response` | do not check status, headers or body |
//! | `ONLY`, `SKIP` | run only this block of the file; skip this block (`--- SKIP: reason`) |
//! | `moonwire_only` | skipped when checking against a real nginx (see below) |
//! | `abort` | the client may give up (`--- timeout`) and close the connection: no failure, the log is still checked |
//! | `tcp_listen` | start a scripted TCP peer (tests/support/mock_peer.rs) for each run; the value is its port: `$TEST_NGINX_TCP_PORT` (any free port) or another `$NAME` (also bound to that port, e.g. `$TEST_NGINX_RAND_PORT_1`) or a literal number; or `$TEST_NGINX_TCP_SOCKET` for a unix-domain stream peer (that variable is its path, connect to `"unix:$TEST_NGINX_TCP_SOCKET"`) |
//! | `tcp_query`, `tcp_query_len` | what the first connection of the run must receive (without `tcp_script`, the peer reads that many bytes; without either it does one read of up to 4096 bytes) |
//! | `tcp_reply` | what the peer sends after reading (with `eval`, an array sends each string with its own write) |
//! | `tcp_reply_delay` | sleep before replying (`100ms`, `0.5s`) |
//! | `tcp_no_close` | keep the connection open after replying (until the client closes it or the run ends) |
//! | `tcp_shutdown`, `tcp_shutdown_delay` | `shutdown(2)` the accepted connection first: 0 = read side (then no read), 1 = write side (then no reply), 2 = both |
//! | `tcp_done` | moonwire extension: every connection the peer accepted must run its script to the end within 1 s of the response (e.g. `read_to_eof` ends only once the server closed the connection) |
//! | `tcp_script` | moonwire extension: the peer's whole script instead of the sections above, one step a line (`expect "..."`, `read N`, `read_line`, `send "..."`, `send_bytewise 10ms "..."`, `sleep 50ms`, `shutdown_write`, `reset`, `close`, `hold`, `echo`, `echo_lines`, `repeat` ...; see `Script::parse` in mock_peer.rs) |
//! | `udp_listen`, `udp_query`, `udp_reply`, `udp_reply_delay` | the same for a UDP peer (`$TEST_NGINX_UDP_PORT`); it answers every datagram with `udp_reply` (an `eval` array: several datagrams) |
//! | `dns_records` | moonwire extension: a tiny DNS server on `$TEST_NGINX_DNS_PORT` (UDP) answering `name A 1.2.3.4` lines (use `resolver 127.0.0.1:$TEST_NGINX_DNS_PORT;`) |
//!
//! `$TEST_NGINX_HTML_DIR` (PREFIX/html) and `$TEST_NGINX_SERVER_ROOT`
//! (PREFIX) are replaced in the config; those and `$TEST_NGINX_SERVER_PORT`
//! in the expectations too. A config that mentions `$TEST_NGINX_SERVER_PORT`
//! gets a fixed port chosen before the start, replaced there as well. The
//! peers' ports (`$TEST_NGINX_TCP_PORT`, `$TEST_NGINX_UDP_PORT`,
//! `$TEST_NGINX_DNS_PORT`), `$TEST_NGINX_REDIS_PORT` (6379) and
//! `$TEST_NGINX_MEMCACHED_PORT` (11211) are replaced everywhere.
//! `$TEST_NGINX_BLACKHOLE_PORT` is a local port where connecting times out
//! (a listener whose accept queue is full), for connect-timeout tests.
//!
//! The filter `eval` (on `tcp_query`, `tcp_reply`, `udp_query`, `udp_reply`, `request_body`)
//! takes the value as a small Perl expression as in Test::Nginx: `"..."`
//! strings with escapes, `.` concatenation, `x N` repetition and `[a, b]`
//! arrays (see `perl_strings` in mock_peer.rs). Without it the value is sent
//! as written (with its final newline, see `chomp`).
//!
//! As in Test::Nginx, the TCP and UDP peers are started afresh for each
//! run (same port) and stopped after it, closing what is still open; unlike
//! Test::Nginx's, they serve every connection they accept, not only the
//! first.
//!
//! Like Test::Nginx's `repeat_each(2)`, every block sends its request twice
//! to one server and checks everything both times.
//!
//! # Checking the expectations against OpenResty
//!
//! With `SPEC_NGINX=/usr/sbin/nginx` (an nginx with lua-nginx-module) the
//! blocks run against that nginx instead of moonwire, to confirm that an
//! expectation is what OpenResty does. `SPEC_NGINX_MODULES` lists the
//! `.so` files to `load_module` (space-separated; default: Debian's ndk and
//! lua modules). Blocks with `--- moonwire_only` are skipped in that mode
//! (they assert moonwire's own strings).
//!
//! A failing block shows the error log of its request without `[debug]`
//! lines when it is long; `SPEC_FULL_LOG=1` shows all of it.
//!
//! Tests named `harness::...` check the runner's own helpers (the peers,
//! the Perl-string subset, the peer sections).

mod support;

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libtest_mimic::{Arguments, Completion, Failed, Trial};

use support::mock_peer::{self, Blackhole, DnsPeer, MockPeer, Script, Step, UdpPeer, UdpReply};
use support::{conf_with_level, Client, TestServer};

const REPEAT: usize = 2;
const LOG_WAIT: Duration = Duration::from_millis(200);

const KNOWN: &[&str] = &[
    "main_config",
    "http_config",
    "config",
    "user_files",
    "request",
    "more_headers",
    "request_body",
    "raw_request",
    "response_body",
    "response_body_like",
    "response_body_unlike",
    "error_code",
    "response_headers",
    "response_headers_like",
    "error_log",
    "no_error_log",
    "log_level",
    "timeout",
    "wait",
    "ignore_response",
    "ONLY",
    "SKIP",
    "moonwire_only",
    "abort",
    "tcp_listen",
    "tcp_query",
    "tcp_query_len",
    "tcp_reply",
    "tcp_reply_delay",
    "tcp_no_close",
    "tcp_shutdown",
    "tcp_shutdown_delay",
    "tcp_script",
    "tcp_done",
    "udp_listen",
    "udp_query",
    "udp_reply",
    "udp_reply_delay",
    "dns_records",
];

/// Sections whose value may go through the `eval` filter.
const EVAL_OK: &[&str] = &[
    "tcp_query",
    "tcp_reply",
    "udp_query",
    "udp_reply",
    "request_body",
];

#[derive(Debug, Clone)]
struct Section {
    name: String,
    value: String,
    /// The `eval` filter was given: `value` is a Perl-ish expression.
    eval: bool,
}

#[derive(Debug, Clone)]
struct Block {
    file: String,
    title: String,
    line: usize,
    sections: Vec<Section>,
    /// A problem found while parsing, reported when the test runs.
    parse_error: Option<String>,
}

impl Block {
    fn get(&self, name: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.value.as_str())
    }

    /// A section's bytes: evaluated with `eval`, else the text as is.
    fn bytes(&self, name: &str) -> Result<Option<Vec<Vec<u8>>>, String> {
        let Some(sec) = self.sections.iter().find(|s| s.name == name) else {
            return Ok(None);
        };
        if sec.eval {
            mock_peer::perl_strings(&sec.value)
                .map(Some)
                .map_err(|e| format!("--- {name} eval: {e}"))
        } else {
            Ok(Some(vec![sec.value.clone().into_bytes()]))
        }
    }

    fn has(&self, name: &str) -> bool {
        self.sections.iter().any(|s| s.name == name)
    }

    fn label(&self) -> String {
        format!("{}:{}: {}", self.file, self.line, self.title)
    }
}

/// Test::Base's `trim`: drop leading and trailing blank lines, keep one final newline.
fn trim_blank_lines(s: &str) -> String {
    let lines: Vec<&str> = s.split('\n').collect();
    let start = lines.iter().position(|l| !l.trim().is_empty());
    let Some(start) = start else {
        return String::new();
    };
    let end = lines.iter().rposition(|l| !l.trim().is_empty()).unwrap();
    let mut out = lines[start..=end].join("\n");
    out.push('\n');
    out
}

fn drop_leading_blank_lines(s: &str) -> String {
    let mut rest = s;
    while let Some(nl) = rest.find('\n') {
        if rest[..nl].trim().is_empty() {
            rest = &rest[nl + 1..];
        } else {
            break;
        }
    }
    rest.to_string()
}

fn parse_file(file: &str, text: &str) -> Vec<Block> {
    let mut blocks: Vec<Block> = Vec::new();
    // (name, filters, single-line value, header line, body lines)
    type Pending = (String, Vec<String>, Option<String>, usize, String);
    let mut pending: Option<Pending> = None;

    fn finish(blocks: &mut [Block], p: Option<Pending>) {
        let Some((name, filters, single, line, body)) = p else {
            return;
        };
        let Some(b) = blocks.last_mut() else { return };
        let mut value = match single {
            Some(v) => v,
            None if name == "raw_request" => drop_leading_blank_lines(&body),
            None => trim_blank_lines(&body),
        };
        let mut eval = false;
        for f in &filters {
            match f.as_str() {
                "eval" if EVAL_OK.contains(&name.as_str()) => eval = true,
                "chomp" => {
                    if value.ends_with('\n') {
                        value.pop();
                    }
                }
                other => {
                    b.parse_error.get_or_insert(format!(
                        "line {line}: unknown filter {other:?} on section --- {name}"
                    ));
                }
            }
        }
        if !KNOWN.contains(&name.as_str()) {
            b.parse_error
                .get_or_insert(format!("line {line}: unknown section --- {name}"));
        }
        if b.sections.iter().any(|s| s.name == name) {
            b.parse_error
                .get_or_insert(format!("line {line}: duplicate section --- {name}"));
        }
        b.sections.push(Section { name, value, eval });
    }

    for (i, raw_line) in text.split_inclusive('\n').enumerate() {
        let lineno = i + 1;
        let line = raw_line.trim_end_matches('\n').trim_end_matches('\r');
        if let Some(title) = line.strip_prefix("=== ") {
            finish(&mut blocks, pending.take());
            blocks.push(Block {
                file: file.to_string(),
                title: title.trim().to_string(),
                line: lineno,
                sections: Vec::new(),
                parse_error: None,
            });
            continue;
        }
        if blocks.is_empty() {
            continue;
        }
        if let Some(head) = line.strip_prefix("--- ") {
            finish(&mut blocks, pending.take());
            let head = head.trim();
            let name_len = head
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(head.len());
            let name = head[..name_len].to_string();
            let rest = &head[name_len..];
            let (filters, single) = if let Some(v) = rest.strip_prefix(':') {
                (Vec::new(), Some(v.trim().to_string()))
            } else {
                (rest.split_whitespace().map(str::to_string).collect(), None)
            };
            pending = Some((name, filters, single, lineno, String::new()));
            continue;
        }
        match &mut pending {
            Some((_, _, None, _, body)) => {
                body.push_str(line);
                body.push('\n');
            }
            Some((name, _, Some(_), l, _)) => {
                if !line.trim().is_empty() {
                    let msg = format!(
                        "line {lineno}: text after the single-line section --- {name} (line {l})"
                    );
                    blocks.last_mut().unwrap().parse_error.get_or_insert(msg);
                }
            }
            None => {
                if !line.trim().is_empty() && !line.starts_with('#') {
                    let msg = format!("line {lineno}: text outside any section: {line:?}");
                    blocks.last_mut().unwrap().parse_error.get_or_insert(msg);
                }
            }
        }
    }
    finish(&mut blocks, pending.take());
    blocks
}

/// Decode `\r \n \t \0 \\ \xHH` (anything else stays as written).
fn unescape(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let esc = match b[i + 1] {
                b'r' => Some((b'\r', 2)),
                b'n' => Some((b'\n', 2)),
                b't' => Some((b'\t', 2)),
                b'0' => Some((0, 2)),
                b'\\' => Some((b'\\', 2)),
                b'x' if i + 4 <= b.len() => std::str::from_utf8(&b[i + 2..i + 4])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .map(|v| (v, 4)),
                _ => None,
            };
            if let Some((v, n)) = esc {
                out.push(v);
                i += n;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

#[derive(Clone)]
struct Vars {
    html: String,
    root: String,
    port: Option<u16>,
    /// `($NAME, value)`: peers' ports and the like.
    extra: Vec<(String, String)>,
}

impl Vars {
    fn apply(&self, s: &str) -> String {
        let mut s = s
            .replace("$TEST_NGINX_HTML_DIR", &self.html)
            .replace("$TEST_NGINX_SERVER_ROOT", &self.root);
        if let Some(p) = self.port {
            s = s.replace("$TEST_NGINX_SERVER_PORT", &p.to_string());
        }
        // longest names first: `$X_10` before `$X_1`
        let mut extra: Vec<&(String, String)> = self.extra.iter().collect();
        extra.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
        for (n, v) in extra {
            s = s.replace(n.as_str(), v);
        }
        s
    }
}

// ---------------------------------------------------------------------------
// The block's network peers (tcp_*, udp_*, dns_records)
// ---------------------------------------------------------------------------

struct TcpSpec {
    script: Script,
    /// The port the peer listens on (fixed after the first bind).
    port: u16,
    /// A unix-domain peer's socket path instead (in `_dir`).
    unix: Option<PathBuf>,
    _dir: Option<tempfile::TempDir>,
    query: Option<Vec<u8>>,
    query_len: Option<usize>,
}

struct UdpSpec {
    reply: UdpReply,
    port: u16,
    query: Option<Vec<u8>>,
}

#[derive(Default)]
struct Peers {
    tcp: Option<(TcpSpec, Option<MockPeer>)>,
    /// `--- tcp_done`
    tcp_done: bool,
    udp: Option<(UdpSpec, Option<UdpPeer>)>,
    dns: Option<DnsPeer>,
    blackhole: Option<Blackhole>,
}

impl Peers {
    /// Parse the sections and bind the peers for the first run; returns the
    /// variables they define.
    fn setup(b: &Block) -> Result<(Peers, Vec<(String, String)>), String> {
        let mut peers = Peers::default();
        let mut vars: Vec<(String, String)> = vec![
            ("$TEST_NGINX_REDIS_PORT".into(), "6379".into()),
            ("$TEST_NGINX_MEMCACHED_PORT".into(), "11211".into()),
        ];
        let tcp_sections = [
            "tcp_query",
            "tcp_query_len",
            "tcp_reply",
            "tcp_reply_delay",
            "tcp_no_close",
            "tcp_shutdown",
            "tcp_shutdown_delay",
            "tcp_script",
            "tcp_done",
        ];
        peers.tcp_done = b.has("tcp_done");
        if let Some(listen) = b.get("tcp_listen") {
            let listen = listen.trim();
            let query = b.bytes("tcp_query")?.map(|v| v.concat());
            let query_len = match b.get("tcp_query_len") {
                Some(n) => Some(
                    n.trim()
                        .parse::<usize>()
                        .map_err(|_| format!("bad --- tcp_query_len {n:?}"))?,
                ),
                None => None,
            };
            let script = if let Some(text) = b.get("tcp_script") {
                let clash = [
                    "tcp_reply",
                    "tcp_reply_delay",
                    "tcp_no_close",
                    "tcp_shutdown",
                    "tcp_shutdown_delay",
                ];
                if let Some(other) = clash.iter().find(|s| b.has(s)) {
                    return Err(format!("--- tcp_script and --- {other} do not go together"));
                }
                Script::parse(text)?
            } else {
                let mut sc = Script::new();
                let mut no_read = false;
                let mut no_write = false;
                if let Some(how) = b.get("tcp_shutdown") {
                    if let Some(d) = b.get("tcp_shutdown_delay") {
                        sc = sc.sleep(mock_peer::parse_duration(d)?);
                    }
                    match how.trim() {
                        "0" => {
                            sc = sc.step(Step::ShutdownRead);
                            no_read = true;
                        }
                        "1" => {
                            sc = sc.shutdown_write();
                            no_write = true;
                        }
                        "2" => {
                            sc = sc.step(Step::ShutdownRead).shutdown_write();
                            no_read = true;
                            no_write = true;
                        }
                        other => return Err(format!("bad --- tcp_shutdown {other:?}")),
                    }
                }
                if !no_read {
                    let n = query_len.or(query.as_ref().map(Vec::len));
                    sc = match n {
                        Some(n) => sc.read(n),
                        None => sc.read_some(),
                    };
                }
                if let Some(d) = b.get("tcp_reply_delay") {
                    sc = sc.sleep(mock_peer::parse_duration(d)?);
                }
                if !no_write {
                    for part in b.bytes("tcp_reply")?.unwrap_or_default() {
                        sc = sc.send(part);
                    }
                }
                if b.has("tcp_no_close") {
                    sc.hold()
                } else {
                    sc.close()
                }
            };
            if listen == "$TEST_NGINX_TCP_SOCKET" {
                let dir = tempfile::Builder::new()
                    .prefix("moonwire-peer-")
                    .tempdir()
                    .map_err(|e| format!("--- tcp_listen: temporary directory: {e}"))?;
                let path = dir.path().join("peer.sock");
                let peer = MockPeer::bind_unix(&path, script.clone()).map_err(|e| {
                    format!("--- tcp_listen: cannot listen on {}: {e}", path.display())
                })?;
                vars.push((listen.to_string(), path.display().to_string()));
                peers.tcp = Some((
                    TcpSpec {
                        script,
                        port: 0,
                        unix: Some(path),
                        _dir: Some(dir),
                        query,
                        query_len,
                    },
                    Some(peer),
                ));
            } else {
                let fixed: u16 = if listen.starts_with('$') {
                    0
                } else {
                    listen.parse().map_err(|_| {
                        format!("--- tcp_listen: want a port number or a $NAME, got {listen:?}")
                    })?
                };
                let peer = MockPeer::bind(("127.0.0.1", fixed), script.clone()).map_err(|e| {
                    format!("--- tcp_listen: cannot listen on 127.0.0.1:{fixed}: {e}")
                })?;
                let port = peer.port();
                vars.push(("$TEST_NGINX_TCP_PORT".into(), port.to_string()));
                if listen.starts_with('$') && listen != "$TEST_NGINX_TCP_PORT" {
                    vars.push((listen.to_string(), port.to_string()));
                }
                peers.tcp = Some((
                    TcpSpec {
                        script,
                        port,
                        unix: None,
                        _dir: None,
                        query,
                        query_len,
                    },
                    Some(peer),
                ));
            }
        } else if let Some(s) = tcp_sections.iter().find(|s| b.has(s)) {
            return Err(format!("--- {s} without --- tcp_listen"));
        }

        if let Some(listen) = b.get("udp_listen") {
            let listen = listen.trim();
            let delay = match b.get("udp_reply_delay") {
                Some(d) => mock_peer::parse_duration(d)?,
                None => Duration::ZERO,
            };
            let reply = match b.bytes("udp_reply")? {
                Some(datagrams) => UdpReply::Fixed { datagrams, delay },
                None => UdpReply::Silent,
            };
            let fixed: u16 = if listen.starts_with('$') {
                0
            } else {
                listen.parse().map_err(|_| {
                    format!("--- udp_listen: want a port number or a $NAME, got {listen:?}")
                })?
            };
            let peer = UdpPeer::bind(("127.0.0.1", fixed), reply.clone())
                .map_err(|e| format!("--- udp_listen: cannot bind 127.0.0.1:{fixed}: {e}"))?;
            let port = peer.port();
            vars.push(("$TEST_NGINX_UDP_PORT".into(), port.to_string()));
            if listen.starts_with('$') && listen != "$TEST_NGINX_UDP_PORT" {
                vars.push((listen.to_string(), port.to_string()));
            }
            let query = b.bytes("udp_query")?.map(|v| v.concat());
            peers.udp = Some((UdpSpec { reply, port, query }, Some(peer)));
        } else if let Some(s) = ["udp_query", "udp_reply", "udp_reply_delay"]
            .iter()
            .find(|s| b.has(s))
        {
            return Err(format!("--- {s} without --- udp_listen"));
        }

        let mentions = |var: &str| {
            ["main_config", "http_config", "config"]
                .iter()
                .any(|s| b.get(s).is_some_and(|t| t.contains(var)))
        };
        if mentions("$TEST_NGINX_BLACKHOLE_PORT") {
            let bh = Blackhole::start().map_err(|e| format!("blackhole port: {e}"))?;
            vars.push(("$TEST_NGINX_BLACKHOLE_PORT".into(), bh.port().to_string()));
            peers.blackhole = Some(bh);
        }
        if let Some(text) = b.get("dns_records") {
            let recs = DnsPeer::parse_records(text)?;
            let refs: Vec<(&str, std::net::Ipv4Addr)> =
                recs.iter().map(|(n, a)| (n.as_str(), *a)).collect();
            let dns = DnsPeer::start(&refs);
            vars.push(("$TEST_NGINX_DNS_PORT".into(), dns.port().to_string()));
            peers.dns = Some(dns);
        }
        Ok((peers, vars))
    }

    /// Fresh TCP/UDP peers on the same ports for the next run (what is
    /// still open from the previous run is closed).
    fn restart(&mut self) -> Result<(), String> {
        if let Some((spec, peer)) = &mut self.tcp {
            drop(peer.take());
            let p = match &spec.unix {
                Some(path) => MockPeer::bind_unix(path, spec.script.clone())
                    .map_err(|e| format!("restart the peer on {}: {e}", path.display()))?,
                None => {
                    bind_retry(|| MockPeer::bind(("127.0.0.1", spec.port), spec.script.clone()))
                        .map_err(|e| format!("restart the TCP peer on port {}: {e}", spec.port))?
                }
            };
            *peer = Some(p);
        }
        if let Some((spec, peer)) = &mut self.udp {
            drop(peer.take());
            let p = bind_retry(|| UdpPeer::bind(("127.0.0.1", spec.port), spec.reply.clone()))
                .map_err(|e| format!("restart the UDP peer on port {}: {e}", spec.port))?;
            *peer = Some(p);
        }
        Ok(())
    }

    /// Check what the peers received during the run.
    fn check(&self, failures: &mut Vec<String>) {
        if let Some((spec, Some(peer))) = &self.tcp {
            let want_len = spec.query_len.or(spec.query.as_ref().map(Vec::len));
            if let Some(n) = want_len {
                match peer.wait_received(0, n, Duration::from_secs(2)) {
                    None => failures.push("--- tcp_query: the TCP peer got no connection".into()),
                    Some(got) => {
                        if let Some(len) = spec.query_len {
                            if got.len() != len {
                                failures.push(format!(
                                    "--- tcp_query_len: expected {len} bytes, the peer received {} ({})",
                                    got.len(),
                                    show_bytes(&got)
                                ));
                            }
                        }
                        if let Some(q) = &spec.query {
                            if &got != q {
                                failures.push(format!(
                                    "--- tcp_query:\n  expected: {}\n  received: {}",
                                    show_bytes(q),
                                    show_bytes(&got)
                                ));
                            }
                        }
                    }
                }
            }
            if self.tcp_done {
                for i in peer.wait_all_done(Duration::from_secs(1)) {
                    failures.push(format!(
                        "--- tcp_done: the peer's connection {i} did not get to the end of its script (received so far: {})",
                        show_bytes(&peer.received(i).unwrap_or_default())
                    ));
                }
            }
            for e in peer.errors() {
                failures.push(format!("TCP peer: {e}"));
            }
        }
        if let Some((spec, Some(peer))) = &self.udp {
            if let Some(q) = &spec.query {
                let got = peer.wait_received(1, Duration::from_secs(2));
                match got.first() {
                    None => failures.push("--- udp_query: the UDP peer got no datagram".into()),
                    Some(d) if d != q => failures.push(format!(
                        "--- udp_query:\n  expected: {}\n  received: {}",
                        show_bytes(q),
                        show_bytes(d)
                    )),
                    Some(_) => {}
                }
            }
        }
    }
}

fn bind_retry<T>(mut f: impl FnMut() -> std::io::Result<T>) -> std::io::Result<T> {
    let mut tries = 0;
    loop {
        match f() {
            Ok(v) => return Ok(v),
            Err(e) if tries < 50 && e.kind() == std::io::ErrorKind::AddrInUse => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Build the request bytes and whether it is a HEAD request.
fn build_request(b: &Block, vars: &Vars) -> Result<(Vec<u8>, bool), String> {
    if let Some(raw) = b.get("raw_request") {
        let raw = vars.apply(raw);
        let crlf = raw.replace("\r\n", "\n").replace('\n', "\r\n");
        let bytes = unescape(&crlf);
        let head = bytes.starts_with(b"HEAD ");
        return Ok((bytes, head));
    }
    let req = b
        .get("request")
        .ok_or("the block has neither --- request nor --- raw_request")?;
    let req = vars.apply(req);
    let mut lines = req.lines();
    let first = lines.next().unwrap_or("").trim();
    let mut parts = first.split_whitespace();
    let method = parts.next().ok_or("empty --- request")?;
    let uri = parts.next().ok_or("--- request has no URI")?;
    let proto = parts.next().unwrap_or("HTTP/1.1");
    let inline_body: Vec<&str> = lines.collect();
    let body: Option<Vec<u8>> =
        if let Some(sec) = b.sections.iter().find(|s| s.name == "request_body") {
            if sec.eval {
                Some(b.bytes("request_body")?.unwrap_or_default().concat())
            } else {
                Some(vars.apply(&sec.value).into_bytes())
            }
        } else if !inline_body.is_empty() {
            Some(inline_body.join("\n").into_bytes())
        } else {
            None
        };

    let mut extra: Vec<(String, String)> = Vec::new();
    if let Some(mh) = b.get("more_headers") {
        for l in vars.apply(mh).lines() {
            if l.trim().is_empty() {
                continue;
            }
            let (n, v) = l
                .split_once(':')
                .ok_or_else(|| format!("bad --- more_headers line {l:?}"))?;
            extra.push((n.trim().to_string(), v.trim().to_string()));
        }
    }
    let has = |n: &str| extra.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
    let mut out = format!("{method} {uri} {proto}\r\n");
    if !has("Host") {
        out.push_str("Host: localhost\r\n");
    }
    if !has("Connection") {
        out.push_str("Connection: close\r\n");
    }
    for (n, v) in &extra {
        let _ = write!(out, "{n}: {v}\r\n");
    }
    if let Some(body) = &body {
        if !has("Content-Length") && !has("Transfer-Encoding") {
            let _ = write!(out, "Content-Length: {}\r\n", body.len());
        }
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if let Some(body) = body {
        bytes.extend_from_slice(&body);
    }
    Ok((bytes, method == "HEAD"))
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("bad duration {s:?}"))?;
    Ok(Duration::from_secs_f64(v * scale))
}

fn non_empty_lines(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

fn regex(pat: &str) -> Result<pcre2::bytes::Regex, String> {
    pcre2::bytes::RegexBuilder::new()
        .dotall(true)
        .build(pat)
        .map_err(|e| format!("bad pattern {pat:?}: {e}"))
}

/// A long log without its `[debug]` lines (real nginx logs a lot at debug).
fn shorten_log(log: &str) -> String {
    if log.lines().count() <= 60 || std::env::var_os("SPEC_FULL_LOG").is_some() {
        return log.to_string();
    }
    let mut out = String::from("(long log: [debug] lines left out)\n");
    for l in log.lines().filter(|l| !l.contains("[debug]")) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

fn show_bytes(b: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(b))
}

/// Write `--- user_files` under `html`.
fn write_user_files(spec: &str, html: &Path) -> Result<(), String> {
    let mut current: Option<(String, String)> = None;
    let mut files = Vec::new();
    for line in spec.split_inclusive('\n') {
        if let Some(rest) = line.strip_prefix(">>> ") {
            if let Some(f) = current.take() {
                files.push(f);
            }
            let name = rest.split_whitespace().next().unwrap_or("").to_string();
            if name.is_empty() {
                return Err("--- user_files: `>>>` without a file name".into());
            }
            current = Some((name, String::new()));
        } else if let Some((_, body)) = &mut current {
            body.push_str(line);
        } else if !line.trim().is_empty() {
            return Err(format!(
                "--- user_files: text before the first `>>>`: {line:?}"
            ));
        }
    }
    if let Some(f) = current.take() {
        files.push(f);
    }
    for (name, body) in files {
        let path = html.join(&name);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| format!("mkdir {}: {e}", dir.display()))?;
        }
        fs::write(&path, body).map_err(|e| format!("write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn run_block(b: &Block) -> Result<(), String> {
    if let Some(e) = &b.parse_error {
        return Err(format!("{}: bad block: {e}", b.label()));
    }
    let level = b.get("log_level").unwrap_or("debug").trim().to_string();
    let reference = reference_nginx();
    let mut main_config = String::new();
    if reference.is_some() {
        let modules = std::env::var("SPEC_NGINX_MODULES").unwrap_or_else(|_| {
            "/usr/lib/nginx/modules/ndk_http_module.so /usr/lib/nginx/modules/ngx_http_lua_module.so"
                .to_string()
        });
        // On one line, so that config line numbers stay those of moonwire's.
        for m in modules.split_whitespace() {
            let _ = write!(main_config, "load_module {m}; ");
        }
    }
    main_config.push_str(b.get("main_config").unwrap_or(""));
    let conf = conf_with_level(
        &level,
        &main_config,
        b.get("http_config").unwrap_or(""),
        b.get("config").unwrap_or(""),
    );
    let user_files = b.get("user_files").map(str::to_string);
    let (mut peers, extra) = Peers::setup(b).map_err(|e| format!("{}: {e}", b.label()))?;
    // A config that names the server's own port needs it before the start.
    let fixed_port = reference.is_some() || conf.contains("$TEST_NGINX_SERVER_PORT");
    let mut setup_err: Option<String> = None;
    let server = TestServer::try_start_bin(
        reference.as_deref().unwrap_or(support::moonwire_bin()),
        fixed_port,
        |prefix| {
            let path = prefix.join("conf/nginx.conf");
            let text = fs::read_to_string(&path).unwrap_or_default();
            let vars = Vars {
                html: prefix.join("html").display().to_string(),
                root: prefix.display().to_string(),
                port: if fixed_port {
                    first_listen_port(&text)
                } else {
                    None
                },
                extra: extra.clone(),
            };
            if let Err(e) = fs::write(&path, vars.apply(&text)) {
                setup_err = Some(format!("rewrite nginx.conf: {e}"));
            }
            if let Some(uf) = &user_files {
                if let Err(e) = write_user_files(uf, &prefix.join("html")) {
                    setup_err = Some(e);
                }
            }
        },
        &conf,
        &[],
    );
    if let Some(e) = setup_err {
        return Err(format!("{}: {e}", b.label()));
    }
    let mut server = server.map_err(|e| {
        format!(
            "{}: the server did not start: {e}\n--- nginx.conf:\n{conf}",
            b.label()
        )
    })?;
    let vars = Vars {
        html: server.prefix().join("html").display().to_string(),
        root: server.prefix().display().to_string(),
        port: Some(server.port()),
        extra,
    };
    for run in 1..=REPEAT {
        if run > 1 {
            peers
                .restart()
                .map_err(|e| format!("{} (run {run}): {e}", b.label()))?;
        }
        if let Err(e) = run_once(&server, b, &vars, &peers) {
            return Err(format!(
                "{} (run {run} of {REPEAT}):\n{e}\n--- nginx.conf:\n{conf}",
                b.label()
            ));
        }
        if let Some(st) = server.try_wait() {
            return Err(format!(
                "{} (run {run}): the server exited ({st}) after the request\n--- stderr:\n{}\n--- error log:\n{}",
                b.label(),
                server.stderr(),
                server.error_log()
            ));
        }
    }
    let (status, clean) = server.stop();
    if !clean {
        return Err(format!(
            "{}: the server did not exit within 10 s of SIGTERM\n--- error log:\n{}",
            b.label(),
            server.error_log()
        ));
    }
    let _ = status;
    Ok(())
}

/// The port of the first `listen 127.0.0.1:PORT` in a config.
fn first_listen_port(conf: &str) -> Option<u16> {
    let i = conf.find("listen 127.0.0.1:")?;
    let rest = &conf[i + "listen 127.0.0.1:".len()..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok().filter(|&p| p != 0)
}

fn run_once(server: &TestServer, b: &Block, vars: &Vars, peers: &Peers) -> Result<(), String> {
    let (raw, is_head) = build_request(b, vars)?;
    let timeout = match b.get("timeout") {
        Some(t) => parse_secs(t)?,
        None => support::IO_TIMEOUT,
    };
    let log_start = server.error_log_len();
    let result = Client::connect_timeout(server.port(), timeout).and_then(|mut c| {
        c.send(&raw)?;
        c.read_response(is_head)
    });
    let mut failures: Vec<String> = Vec::new();
    let ignore_response = b.has("ignore_response");
    let aborted = b.has("abort") && matches!(&result, Err(e) if support::is_timeout(e));
    match &result {
        Err(_) if aborted => {}
        Err(e) if !ignore_response => {
            failures.push(format!(
                "request failed: {e}\n--- request sent:\n{}",
                String::from_utf8_lossy(&raw)
            ));
        }
        Err(_) => {}
        Ok(resp) if !ignore_response => check_response(b, vars, resp, &mut failures)?,
        Ok(_) => {}
    }
    peers.check(&mut failures);
    if let Some(w) = b.get("wait") {
        std::thread::sleep(parse_secs(w)?);
    }

    // The error log: what this request added.
    let want: Vec<String> = b
        .get("error_log")
        .map(|s| non_empty_lines(&vars.apply(s)))
        .unwrap_or_default();
    let deadline = Instant::now() + LOG_WAIT;
    let mut log = server.error_log_since(log_start);
    while !want.iter().all(|w| log.contains(w.as_str())) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
        log = server.error_log_since(log_start);
    }
    for w in &want {
        if !log.contains(w.as_str()) {
            failures.push(format!("--- error_log: expected a line containing {w:?}"));
        }
    }
    if let Some(s) = b.get("no_error_log") {
        for w in non_empty_lines(&vars.apply(s)) {
            if let Some(l) = log.lines().find(|l| l.contains(w.as_str())) {
                failures.push(format!(
                    "--- no_error_log: unexpected {w:?} in the error log:\n    {l}"
                ));
            }
        }
    }

    if failures.is_empty() {
        return Ok(());
    }
    let mut msg = failures.join("\n");
    if let Ok(resp) = &result {
        let _ = write!(
            msg,
            "\n--- response:\n{}\n\n{}",
            resp.raw_head,
            String::from_utf8_lossy(&resp.body)
        );
    }
    let _ = write!(
        msg,
        "\n--- error log (this request):\n{}",
        shorten_log(&log)
    );
    Err(msg)
}

fn check_response(
    b: &Block,
    vars: &Vars,
    resp: &support::Response,
    failures: &mut Vec<String>,
) -> Result<(), String> {
    let want_status: u16 = match b.get("error_code") {
        Some(c) => c
            .trim()
            .parse()
            .map_err(|_| format!("bad --- error_code {c:?}"))?,
        None => 200,
    };
    if resp.status != want_status {
        failures.push(format!(
            "--- error_code: expected {want_status}, got {} {}",
            resp.status, resp.reason
        ));
    }
    if let Some(hs) = b.get("response_headers") {
        for l in vars.apply(hs).lines() {
            let l = l.trim();
            if l.is_empty() {
                continue;
            }
            if let Some(name) = l.strip_prefix('!') {
                let name = name.trim();
                let all = resp.header_all(name);
                if !all.is_empty() {
                    failures.push(format!(
                        "--- response_headers: expected no {name} header, got {:?}",
                        all.join(", ")
                    ));
                }
                continue;
            }
            let (name, want) = l
                .split_once(':')
                .ok_or_else(|| format!("bad --- response_headers line {l:?}"))?;
            let (name, want) = (name.trim(), want.trim());
            let all = resp.header_all(name);
            let got = all.join(", ");
            if got != want {
                failures.push(format!(
                    "--- response_headers: {name}: expected {want:?}, got {}",
                    if all.is_empty() {
                        "no such header".to_string()
                    } else {
                        format!("{got:?}")
                    }
                ));
            }
        }
    }
    if let Some(hs) = b.get("response_headers_like") {
        for l in vars.apply(hs).lines() {
            let l = l.trim();
            if l.is_empty() {
                continue;
            }
            let (name, pat) = l
                .split_once(':')
                .ok_or_else(|| format!("bad --- response_headers_like line {l:?}"))?;
            let (name, pat) = (name.trim(), pat.trim());
            let got = resp.header_all(name).join(", ");
            if !regex(pat)?.is_match(got.as_bytes()).unwrap_or(false) {
                failures.push(format!(
                    "--- response_headers_like: {name}: expected /{pat}/, got {got:?}"
                ));
            }
        }
    }
    if let Some(want) = b.get("response_body") {
        let want = vars.apply(want);
        if resp.body != want.as_bytes() {
            failures.push(format!(
                "--- response_body:\n  expected: {:?}\n  actual:   {}",
                want,
                show_bytes(&resp.body)
            ));
        }
    }
    for (sec, positive) in [
        ("response_body_like", true),
        ("response_body_unlike", false),
    ] {
        if let Some(pat) = b.get(sec) {
            let pat = vars.apply(pat);
            let pat = pat.strip_suffix('\n').unwrap_or(&pat);
            let m = regex(pat)?
                .is_match(&resp.body)
                .map_err(|e| format!("--- {sec}: {e}"))?;
            if m != positive {
                failures.push(format!(
                    "--- {sec}: expected the body {} match /{pat}/\n  actual: {}",
                    if positive { "to" } else { "not to" },
                    show_bytes(&resp.body)
                ));
            }
        }
    }
    Ok(())
}

/// The real nginx to run the blocks against instead of moonwire, if any.
fn reference_nginx() -> Option<String> {
    std::env::var("SPEC_NGINX").ok().filter(|s| !s.is_empty())
}

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/spec")
}

fn main() {
    let args = Arguments::from_args();
    let mut files: Vec<PathBuf> = fs::read_dir(spec_dir())
        .expect("tests/spec")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "t"))
        .collect();
    files.sort();

    // tests/spec/PENDING lists blocks (by name prefix) whose feature is not
    // built yet, each with the reason; they are reported as ignored with it.
    // The list is checked against real OpenResty like every other block.
    let pending: Vec<(String, String)> = fs::read_to_string(spec_dir().join("PENDING"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| {
            l.split_once(" | ")
                .map(|(n, r)| (n.trim().to_string(), r.trim().to_string()))
        })
        .collect();
    let mut trials = Vec::new();
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = fs::read_to_string(&path).expect("read spec file");
        let file = format!("tests/spec/{stem}.t");
        let blocks = parse_file(&file, &text);
        let only = blocks.iter().any(|b| b.has("ONLY"));
        if only {
            eprintln!("note: {file} has a block with --- ONLY; its other blocks are skipped");
        }
        for b in blocks {
            let name = format!("{stem}::{}", b.title);
            let skip = if let Some(reason) = b.get("SKIP") {
                let reason = reason.trim();
                Some(if reason.is_empty() {
                    "--- SKIP".to_string()
                } else {
                    format!("--- SKIP: {reason}")
                })
            } else if b.has("moonwire_only") && reference_nginx().is_some() {
                Some("--- moonwire_only".to_string())
            } else if only && !b.has("ONLY") {
                Some("another block of this file has --- ONLY".to_string())
            } else if let Some((_, why)) = pending
                .iter()
                .find(|(n, _)| name.starts_with(n.as_str()) && reference_nginx().is_none())
            {
                Some(format!("pending: {why}"))
            } else {
                None
            };
            trials.push(Trial::ignorable_test(name, move || {
                if let Some(reason) = skip {
                    return Ok(Completion::ignored_with(reason));
                }
                run_block(&b)
                    .map(|()| Completion::Completed)
                    .map_err(Failed::from)
            }));
        }
    }
    for (name, f) in HARNESS_CHECKS {
        trials.push(Trial::test(format!("harness::{name}"), move || {
            f().map_err(Failed::from)
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}

// ---------------------------------------------------------------------------
// Self-checks of the runner's helpers (the peers, the Perl-string subset)
// ---------------------------------------------------------------------------

type Check = fn() -> Result<(), String>;

const HARNESS_CHECKS: &[(&str, Check)] = &[
    ("perl strings", check_perl_strings),
    ("tcp script parsing", check_script_parse),
    ("tcp peer plays its script", check_tcp_peer),
    ("tcp peer reset and half-close", check_tcp_peer_reset),
    ("udp and dns peers", check_udp_dns_peers),
    ("blackhole port times out", check_blackhole),
    ("block sections for the peers", check_peer_sections),
];

fn ensure(cond: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

fn check_perl_strings() -> Result<(), String> {
    let v = mock_peer::perl_strings(r#""a\r\n\x41\x{263A}\$x\"" . 'b\'c' x 2"#)?;
    ensure(v == vec![b"a\r\nA\xe2\x98\xba$x\"b'cb'c".to_vec()], || {
        format!("{v:?}")
    })?;
    let v = mock_peer::perl_strings("[\"one\", \"two\" . \"!\",\n \"\"]")?;
    ensure(
        v == vec![b"one".to_vec(), b"two!".to_vec(), Vec::new()],
        || format!("{v:?}"),
    )?;
    let v = mock_peer::perl_strings("(\"ab\" x 3) . \"\\0\";")?;
    ensure(v == vec![b"ababab\0".to_vec()], || format!("{v:?}"))?;
    ensure(mock_peer::perl_strings("\"$var\"").is_err(), || {
        "interpolation should be refused".into()
    })?;
    ensure(mock_peer::perl_strings("\"open").is_err(), || {
        "an unterminated string should be refused".into()
    })
}

fn check_script_parse() -> Result<(), String> {
    let sc = Script::parse(
        "# comment\nexpect \"GET # not a comment\\r\\n\"\nread 5\nread_line\n\
         send_bytewise 10ms \"ab\"\nsleep 0.5s\nshutdown_write\nrepeat  # again\n",
    )?;
    let want = vec![
        Step::Expect(b"GET # not a comment\r\n".to_vec()),
        Step::Read(5),
        Step::ReadUntil(b"\n".to_vec()),
        Step::SendBytewise(b"ab".to_vec(), Duration::from_millis(10)),
        Step::Sleep(Duration::from_millis(500)),
        Step::ShutdownWrite,
        Step::Repeat,
    ];
    ensure(sc.steps == want, || format!("{:?}", sc.steps))?;
    ensure(Script::parse("frobnicate").is_err(), || {
        "an unknown step should be refused".into()
    })
}

fn check_tcp_peer() -> Result<(), String> {
    use std::io::{Read, Write};
    let peer = MockPeer::start(
        Script::new()
            .expect(b"hello\n")
            .send_bytewise(b"abc", Duration::from_millis(1))
            .read_line()
            .send(b"bye\n")
            .close(),
    );
    let mut c =
        std::net::TcpStream::connect(("127.0.0.1", peer.port())).map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    c.write_all(b"hello\nline two\n")
        .map_err(|e| e.to_string())?;
    let mut got = Vec::new();
    c.read_to_end(&mut got).map_err(|e| e.to_string())?;
    ensure(got == b"abcbye\n", || {
        format!("client got {}", show_bytes(&got))
    })?;
    ensure(peer.wait_done(0, Duration::from_secs(2)), || {
        "script not done".into()
    })?;
    let rec = peer.received(0).unwrap_or_default();
    ensure(rec == b"hello\nline two\n", || {
        format!("peer got {}", show_bytes(&rec))
    })?;
    ensure(peer.errors().is_empty(), || format!("{:?}", peer.errors()))?;
    // a mismatch is reported
    let peer = MockPeer::start(Script::new().expect(b"right"));
    let mut c =
        std::net::TcpStream::connect(("127.0.0.1", peer.port())).map_err(|e| e.to_string())?;
    c.write_all(b"wrong").map_err(|e| e.to_string())?;
    ensure(peer.wait_done(0, Duration::from_secs(2)), || {
        "script not done".into()
    })?;
    ensure(peer.errors().len() == 1, || format!("{:?}", peer.errors()))?;
    // echo_lines serves several lines on one connection
    let peer = MockPeer::start(Script::new().echo_lines());
    let mut c =
        std::net::TcpStream::connect(("127.0.0.1", peer.port())).map_err(|e| e.to_string())?;
    c.write_all(b"1\n2\n").map_err(|e| e.to_string())?;
    c.shutdown(std::net::Shutdown::Write)
        .map_err(|e| e.to_string())?;
    let mut got = Vec::new();
    c.read_to_end(&mut got).map_err(|e| e.to_string())?;
    ensure(got == b"1\n2\n", || {
        format!("client got {}", show_bytes(&got))
    })
}

fn check_tcp_peer_reset() -> Result<(), String> {
    use std::io::Read;
    let peer = MockPeer::start(Script::new().send(b"x").shutdown_write().hold());
    let mut c =
        std::net::TcpStream::connect(("127.0.0.1", peer.port())).map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut got = Vec::new();
    c.read_to_end(&mut got).map_err(|e| e.to_string())?;
    ensure(got == b"x", || format!("client got {}", show_bytes(&got)))?;
    let peer = MockPeer::start(Script::new().sleep(Duration::from_millis(20)).reset());
    let mut c =
        std::net::TcpStream::connect(("127.0.0.1", peer.port())).map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 10];
    match c.read(&mut buf) {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => Ok(()),
        other => Err(format!("expected a reset, got {other:?}")),
    }
}

fn check_udp_dns_peers() -> Result<(), String> {
    let peer = UdpPeer::start(UdpReply::Fixed {
        datagrams: vec![b"r1".to_vec(), b"r2".to_vec()],
        delay: Duration::ZERO,
    });
    let c = std::net::UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    c.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    c.send_to(b"q", ("127.0.0.1", peer.port()))
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 100];
    let n = c.recv(&mut buf).map_err(|e| e.to_string())?;
    ensure(&buf[..n] == b"r1", || show_bytes(&buf[..n]))?;
    let n = c.recv(&mut buf).map_err(|e| e.to_string())?;
    ensure(&buf[..n] == b"r2", || show_bytes(&buf[..n]))?;
    ensure(peer.received() == vec![b"q".to_vec()], || {
        format!("{:?}", peer.received())
    })?;

    let dns = DnsPeer::start(&[("a.test", std::net::Ipv4Addr::new(10, 0, 0, 7))]);
    let query = |name: &str| -> Result<Vec<u8>, String> {
        let mut q = vec![0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        c.send_to(&q, ("127.0.0.1", dns.port()))
            .map_err(|e| e.to_string())?;
        let mut buf = [0u8; 512];
        let n = c.recv(&mut buf).map_err(|e| e.to_string())?;
        Ok(buf[..n].to_vec())
    };
    let r = query("A.test")?;
    ensure(
        r[..2] == [0x12, 0x34] && r[3] & 0x0f == 0 && r[7] == 1 && r.ends_with(&[10, 0, 0, 7]),
        || format!("{r:?}"),
    )?;
    let r = query("b.test")?;
    ensure(r[3] & 0x0f == 3 && r[7] == 0, || format!("{r:?}"))
}

fn check_blackhole() -> Result<(), String> {
    let bh = Blackhole::start().map_err(|e| e.to_string())?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], bh.port()));
    let t = Instant::now();
    match std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
        Err(e) if support::is_timeout(&e) => {
            ensure(t.elapsed() >= Duration::from_millis(150), || {
                format!("{:?}", t.elapsed())
            })
        }
        other => Err(format!("expected a connect timeout, got {other:?}")),
    }
}

fn check_peer_sections() -> Result<(), String> {
    let text = "=== TEST 1: x
--- tcp_listen: $TEST_NGINX_RAND_PORT_1
--- tcp_query eval
\"q\\n\"
--- tcp_reply eval
[\"a\", \"b\"]
--- tcp_reply_delay: 10ms
--- tcp_no_close
--- udp_listen: $TEST_NGINX_UDP_PORT
--- udp_reply: u
--- dns_records
x.test A 1.2.3.4
";
    let blocks = parse_file("self-check", text);
    let b = &blocks[0];
    ensure(b.parse_error.is_none(), || format!("{:?}", b.parse_error))?;
    let (peers, vars) = Peers::setup(b)?;
    let (spec, _) = peers.tcp.as_ref().ok_or("no tcp peer")?;
    ensure(
        spec.script.steps
            == vec![
                Step::Read(2),
                Step::Sleep(Duration::from_millis(10)),
                Step::Send(b"a".to_vec()),
                Step::Send(b"b".to_vec()),
                Step::Hold,
            ],
        || format!("{:?}", spec.script.steps),
    )?;
    let names: Vec<&str> = vars.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "$TEST_NGINX_TCP_PORT",
        "$TEST_NGINX_RAND_PORT_1",
        "$TEST_NGINX_UDP_PORT",
        "$TEST_NGINX_DNS_PORT",
        "$TEST_NGINX_REDIS_PORT",
        "$TEST_NGINX_MEMCACHED_PORT",
    ] {
        ensure(names.contains(&want), || {
            format!("{want} missing from {names:?}")
        })?;
    }
    let v = Vars {
        html: String::new(),
        root: String::new(),
        port: None,
        extra: vec![
            ("$X_1".into(), "one".into()),
            ("$X_10".into(), "ten".into()),
        ],
    };
    ensure(v.apply("$X_10 $X_1") == "ten one", || v.apply("$X_10 $X_1"))
}
