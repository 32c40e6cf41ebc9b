//! 10,000 concurrent connections against a 2-worker server, each request
//! doing a Redis round trip (lua-resty-redis, Debian's `nginx.redis` behind
//! a `resty.redis` shim) through the cosocket pool with
//! `set_keepalive(10000, 100)`: every response is right, and the pools keep
//! the number of Redis connections bounded (at most 100 idle per worker
//! afterwards, checked with `INFO clients`).
//!
//! Needs redis-server on 127.0.0.1:6379 (test.sh starts it). With
//! `SPEC_NGINX=/usr/sbin/nginx` the same runs against that nginx (with a
//! master process and 2 worker processes) to confirm the expectations.

mod support;

use std::fs;
use std::time::{Duration, Instant};

use support::mock_peer::{line_command, tcp_port_open};
use support::{conf, get, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const N: usize = 10_000;
const WORKERS: usize = 2;
const POOL: usize = 100;
/// Connections other clients (test.sh's checks, parallel tests) may open
/// meanwhile.
const MARGIN: usize = 20;

const LOCATIONS: &str = r#"
location = /r {
    content_by_lua_block {
        local redis = require "resty.redis"
        local red = redis:new()
        red:set_timeouts(10000, 10000, 10000)
        local ok, err = red:connect("127.0.0.1", 6379)
        if not ok then
            ngx.say("failed to connect: ", err)
            return
        end
        local id = ngx.var.arg_id
        local res, err = red:echo("id:" .. id)
        if not res then
            ngx.say("failed to echo: ", err)
            return
        end
        local ok, err = red:set_keepalive(10000, 100)
        if not ok then
            ngx.say("failed to set keepalive: ", err)
            return
        end
        ngx.say(res, " worker ", ngx.worker.id())
    }
}
location = /ping {
    content_by_lua_block { ngx.say("pong") }
}
"#;

fn raise_nofile() {
    // SAFETY: getrlimit/setrlimit on our own process with a valid struct.
    unsafe {
        let mut r: libc::rlimit = std::mem::zeroed();
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut r);
        r.rlim_cur = r.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &r);
    }
}

/// `connected_clients` from Redis' `INFO clients`.
fn redis_clients() -> usize {
    let out =
        line_command(6379, "INFO clients\r\n", Duration::from_millis(500)).expect("INFO clients");
    let text = String::from_utf8_lossy(&out);
    text.lines()
        .find_map(|l| l.strip_prefix("connected_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no connected_clients in {text:?}"))
}

fn start() -> TestServer {
    let reference = std::env::var("SPEC_NGINX").ok().filter(|s| !s.is_empty());
    let mut main = String::new();
    if reference.is_some() {
        main.push_str(
            "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n\
             load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n\
             user root;\n",
        );
    }
    let mut text = conf(
        &main,
        "lua_package_path \"$prefix/lua/?.lua;/usr/share/lua/5.1/?.lua;;\";",
        LOCATIONS,
    )
    .replace(
        "worker_processes 1;",
        &format!("worker_processes {WORKERS};"),
    )
    .replace("worker_connections 1024", "worker_connections 20000")
    .replace("listen 127.0.0.1:0;", "listen 127.0.0.1:0 backlog=4096;");
    if reference.is_some() {
        // nginx needs a master process for several workers
        text = text.replace("master_process off;", "master_process on;");
    }
    let setup = |prefix: &std::path::Path| {
        let dir = prefix.join("lua/resty");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("redis.lua"), "return require \"nginx.redis\"\n").unwrap();
    };
    let bin = reference
        .clone()
        .unwrap_or_else(|| support::moonwire_bin().to_string());
    TestServer::try_start_bin(&bin, reference.is_some(), setup, &text, &[])
        .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn ten_thousand_concurrent_requests_share_bounded_redis_pools() {
    assert!(
        tcp_port_open(6379),
        "redis-server is not answering on 127.0.0.1:6379 (test.sh starts it)"
    );
    raise_nofile();
    let s = start();
    let port = s.port();
    assert_eq!(get(port, "/ping").body, b"pong\n");
    let before = redis_clients();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let started = Instant::now();
    let (ok, bad, workers_seen) = rt.block_on(async move {
        // open every connection first, so that all requests are in flight together
        let mut conns = Vec::with_capacity(N);
        for _ in 0..N {
            let c = tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .expect("connect");
            conns.push(c);
        }
        let mut tasks = Vec::with_capacity(N);
        for (i, mut c) in conns.into_iter().enumerate() {
            tasks.push(tokio::spawn(async move {
                let req = format!(
                    "GET /r?id={i} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                );
                if c.write_all(req.as_bytes()).await.is_err() {
                    return (i, Vec::new());
                }
                let mut buf = Vec::new();
                let _ =
                    tokio::time::timeout(Duration::from_secs(60), c.read_to_end(&mut buf)).await;
                (i, buf)
            }));
        }
        let mut ok = 0;
        let mut bad: Vec<String> = Vec::new();
        let mut workers_seen = [false; WORKERS];
        for t in tasks {
            let (i, buf) = t.await.unwrap();
            let text = String::from_utf8_lossy(&buf);
            let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
            // chunked: "<hex>\r\nid:<i> worker <w>\n\r\n0\r\n\r\n"
            let want_prefix = format!("id:{i} worker ");
            let good = text.starts_with("HTTP/1.1 200 OK\r\n")
                && body.lines().any(|l| {
                    l.strip_prefix(&want_prefix).is_some_and(|w| {
                        w.parse::<usize>().is_ok_and(|w| {
                            if w < WORKERS {
                                workers_seen[w] = true;
                                true
                            } else {
                                false
                            }
                        })
                    })
                });
            if good {
                ok += 1;
            } else if bad.len() < 5 {
                bad.push(format!("request {i}: {text:?}"));
            }
        }
        (ok, bad, workers_seen)
    });
    let elapsed = started.elapsed();
    let after = redis_clients();
    eprintln!(
        "{N} concurrent requests with a Redis round trip each: {ok} right in {elapsed:?}; \
         redis connected_clients {before} -> {after}; workers used: {workers_seen:?}"
    );
    assert_eq!(
        ok,
        N,
        "some responses were wrong, e.g.:\n{}\n--- error log (tail):\n{}",
        bad.join("\n"),
        tail(&s.error_log(), 40)
    );
    assert!(
        workers_seen.iter().all(|&w| w),
        "not every worker answered requests: {workers_seen:?}"
    );
    // Connections beyond the pools are closed when their requests end; Redis
    // notices thousands of closes over the next moments, so let its count settle
    // (the server is still running, so a leak would keep the count high).
    let bound = before + WORKERS * POOL + MARGIN;
    let mut after = after;
    let settle = Instant::now();
    while after > bound && settle.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(200));
        after = redis_clients();
    }
    assert!(
        after <= bound,
        "too many Redis connections left open: {before} before, {after} after \
         (pools of {POOL} per worker, {WORKERS} workers)"
    );
    // the pooled connections are reused by later requests
    let r = get(port, "/r?id=again");
    assert!(r.text().starts_with("id:again worker "), "{}", r.text());
    assert!(redis_clients() <= before + WORKERS * POOL + MARGIN);
}

fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
