//! 15,000 requests sleeping at the same time on ONE worker all complete,
//! the worker answers other requests meanwhile, and we report the memory
//! each in-flight request costs.

mod support;

use std::time::{Duration, Instant};

use support::{conf, get, TestServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const N: usize = 15_000;

const LOCATIONS: &str = r#"
location = /hold {
    content_by_lua_block {
        local st = require "inflight"
        st.now = st.now + 1
        if st.now > st.max then st.max = st.now end
        local until_ms = tonumber(ngx.var.arg_until)
        ngx.sleep(math.max(0, until_ms - ngx.now() * 1000) / 1000)
        st.now = st.now - 1
        ngx.say("ok")
    }
}
location = /stats {
    content_by_lua_block {
        local st = require "inflight"
        ngx.say(st.now, " ", st.max)
    }
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

fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = s.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

fn stats(port: u16) -> (usize, usize) {
    let r = get(port, "/stats");
    let body = String::from_utf8(r.body).unwrap();
    let mut it = body.split_whitespace().map(|x| x.parse::<usize>().unwrap());
    (it.next().unwrap(), it.next().unwrap())
}

#[test]
fn fifteen_thousand_sleeping_requests_on_one_worker() {
    raise_nofile();
    let s = TestServer::start_with(
        |prefix| {
            std::fs::create_dir_all(prefix.join("lua")).unwrap();
            std::fs::write(
                prefix.join("lua/inflight.lua"),
                "return { now = 0, max = 0 }\n",
            )
            .unwrap();
        },
        &conf("", "lua_package_path \"$prefix/lua/?.lua;;\";", LOCATIONS)
            .replace("worker_connections 1024", "worker_connections 20000")
            .replace("listen 127.0.0.1:0;", "listen 127.0.0.1:0 backlog=4096;"),
    );
    let port = s.port();
    let pid = s.pid();
    assert_eq!(get(port, "/stats").body, b"0 0\n");
    let base = rss_kib(pid);
    let now_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    };
    let deadline = now_ms() + 25_000;

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (ok, peak_rss, peak_inflight, probe_ms) = rt.block_on(async move {
        let mut tasks = Vec::with_capacity(N);
        let started = Instant::now();
        for _ in 0..N {
            let mut c = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
            let req = format!("GET /hold?until={deadline} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
            c.write_all(req.as_bytes()).await.unwrap();
            tasks.push(tokio::spawn(async move {
                let mut buf = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(60), c.read_to_end(&mut buf)).await;
                buf.starts_with(b"HTTP/1.1 200 OK") && buf.ends_with(b"\r\n\r\n3\r\nok\n\r\n0\r\n\r\n")
            }));
        }
        // wait until every request is parked in ngx.sleep
        let mut inflight = 0;
        while started.elapsed() < Duration::from_secs(20) {
            inflight = tokio::task::spawn_blocking(move || stats(port).0).await.unwrap();
            if inflight >= N {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let peak = rss_kib(pid);
        // the same worker still answers right away
        let t = Instant::now();
        let (_, max) = tokio::task::spawn_blocking(move || stats(port)).await.unwrap();
        let probe_ms = t.elapsed().as_millis();
        assert_eq!(inflight, N, "not all requests were in flight together");
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap() {
                ok += 1;
            }
        }
        (ok, peak, max, probe_ms)
    });
    let per_req = (peak_rss.saturating_sub(base)) as f64 / N as f64;
    eprintln!(
        "{N} in flight on one worker: rss {base} KiB idle -> {peak_rss} KiB peak, {per_req:.1} KiB per in-flight request; probe answered in {probe_ms} ms"
    );
    assert_eq!(ok, N, "some sleeping requests did not complete correctly");
    assert_eq!(peak_inflight, N);
    assert!(
        per_req < 64.0,
        "memory per in-flight request too high: {per_req:.1} KiB"
    );
    assert_eq!(stats(port), (0, N));
}
