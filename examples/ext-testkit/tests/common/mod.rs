//! What the example extensions' end-to-end tests share: moonwire's own
//! test support (server in a temporary prefix, raw HTTP client) and the
//! "does the worker keep serving?" latency probe.
#![allow(dead_code)]

#[path = "../../../../crates/moonwire/tests/support/mod.rs"]
pub mod support;

use std::time::{Duration, Instant};

pub use support::{conf_with_level, get, Client, Response, TestServer};

/// Start `bin` (a moonwire built with extensions) with one worker, error
/// log at `info`, `http` and `server` pasted into the config.
pub fn start(bin: &str, http: &str, server: &str) -> TestServer {
    let conf = conf_with_level("info", "", http, server);
    TestServer::try_start_bin(bin, false, |_| {}, &conf, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// `GET path` on a fresh connection for each path, without reading the
/// answers (they are read later with [`read_all`]).
pub fn send_all(port: u16, paths: impl IntoIterator<Item = String>) -> Vec<Client> {
    paths
        .into_iter()
        .map(|p| {
            let mut c = Client::connect(port).expect("connect");
            c.set_timeout(Duration::from_secs(60)).expect("timeout");
            c.send(format!("GET {p} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
                .expect("send");
            c
        })
        .collect()
}

pub fn read_all(clients: Vec<Client>) -> Vec<Response> {
    clients
        .into_iter()
        .map(|mut c| c.read_response(false).expect("response"))
        .collect()
}

/// Latencies of `n` sequential `GET path` on one keep-alive connection, sorted.
pub fn probe(port: u16, path: &str, n: usize) -> Vec<Duration> {
    let mut c = Client::connect(port).expect("connect");
    let mut lat = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = c.get(path).expect("probe request");
        lat.push(t.elapsed());
        assert_eq!(r.status, 200, "probe {path}: {}", r.text());
        // spread the probes over the pending work, as independent clients would
        std::thread::sleep(Duration::from_millis(5));
    }
    lat.sort();
    lat
}

/// The `q` quantile (0..=1) of sorted latencies.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// A `name value` line of a `/stats` body as a number.
pub fn stat(body: &str, name: &str) -> i64 {
    body.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {body:?}"))
}

/// Poll `path` until `done(body)` or the timeout.
pub fn wait_for(port: u16, path: &str, timeout: Duration, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let body = get(port, path).text();
        if done(&body) || Instant::now() > deadline {
            return body;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The config lines of a `/stats` location printing moonwire's extension counters
/// (`stats` is an expression returning `moonwire::ext::Stats::to_value()`).
pub fn stats_location(stats: &str) -> String {
    format!(
        r#"
        location = /stats {{
            content_by_lua_block {{
                local s = {stats}
                local keys = {{}}
                for k in pairs(s) do keys[#keys + 1] = k end
                table.sort(keys)
                for _, k in ipairs(keys) do ngx.say(k, " ", s[k]) end
            }}
        }}
"#
    )
}

/// Assert the error log has no sign of a crash or a stuck request.
pub fn assert_clean_log(s: &TestServer) {
    let log = s.error_log();
    for bad in ["[alert]", "[crit]", "[emerg]", "panicked"] {
        assert!(!log.contains(bad), "{bad} in the error log:\n{log}");
    }
}
