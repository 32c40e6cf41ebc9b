//! Process control like nginx: SIGHUP reloads without dropping requests and
//! keeps the old config when the new one is bad, SIGQUIT drains in-flight
//! requests, SIGTERM stops, SIGUSR1 reopens logs.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use support::{conf, get, Client, TestServer};

fn server_conf(body: &str) -> String {
    let locs = format!(
        r#"
location = /v {{ content_by_lua_block {{ ngx.say("{body}") }} }}
location = /slow {{ content_by_lua_block {{ ngx.sleep(0.4) ngx.say("slow done") }} }}
"#
    );
    conf("", "", &locs).replace("worker_processes 1;", "worker_processes 2;")
}

fn rewrite_conf(s: &TestServer, text: &str) {
    // keep the same (already bound) port: the running server resolved listen :0
    let port = s.port();
    std::fs::write(
        s.prefix().join("conf/nginx.conf"),
        text.replace("127.0.0.1:0", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
}

#[test]
fn reload_under_load_drops_no_request_and_applies_the_new_config() {
    let s = TestServer::start(&server_conf("one"));
    let port = s.port();
    // make later reloads bind the same concrete port the first start got
    rewrite_conf(&s, &server_conf("one"));
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for k in 0..4 {
        let (stop, failures, done) = (stop.clone(), failures.clone(), done.clone());
        clients.push(thread::spawn(move || {
            let mut keep: Option<Client> = None;
            while !stop.load(Ordering::Relaxed) {
                // half the clients use a fresh connection per request, half keep-alive
                let r = if k % 2 == 0 {
                    std::panic::catch_unwind(|| get(port, "/v")).ok()
                } else {
                    let c = match keep.as_mut() {
                        Some(c) => c,
                        None => keep.insert(Client::connect(port).unwrap()),
                    };
                    match c.get("/v") {
                        Ok(r) => {
                            if r.header("connection") == Some("close") {
                                keep = None;
                            }
                            Some(r)
                        }
                        // a keep-alive connection closed by a retiring worker between
                        // requests is normal HTTP; the client retries on a new one
                        Err(_) => {
                            keep = None;
                            continue;
                        }
                    }
                };
                match r {
                    Some(r) if r.status == 200 && (r.body == b"one\n" || r.body == b"two\n") => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }
    thread::sleep(Duration::from_millis(300));
    for i in 0..5 {
        if i == 3 {
            rewrite_conf(&s, &server_conf("two"));
        }
        s.signal(libc::SIGHUP);
        thread::sleep(Duration::from_millis(250));
    }
    thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    assert!(
        done.load(Ordering::Relaxed) > 100,
        "too few requests ran: {}",
        done.load(Ordering::Relaxed)
    );
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "requests failed during reloads; log:\n{}",
        s.error_log()
    );
    assert_eq!(get(port, "/v").body, b"two\n");
    assert!(s.error_log().contains("reconfiguring"));
}

#[test]
fn a_bad_config_on_reload_keeps_the_old_one_serving() {
    let s = TestServer::start(&server_conf("old"));
    let port = s.port();
    std::fs::write(
        s.prefix().join("conf/nginx.conf"),
        "events {}\nhttp { bogus_directive on; }\n",
    )
    .unwrap();
    s.signal(libc::SIGHUP);
    let t = Instant::now();
    while !s
        .error_log()
        .contains("unknown directive \"bogus_directive\"")
        && t.elapsed() < Duration::from_secs(5)
    {
        thread::sleep(Duration::from_millis(50));
    }
    let log = s.error_log();
    assert!(
        log.contains("[emerg]") && log.contains("unknown directive \"bogus_directive\""),
        "{log}"
    );
    assert_eq!(get(port, "/v").body, b"old\n");
}

#[test]
fn sigquit_finishes_in_flight_requests_then_exits() {
    let mut s = TestServer::start(&server_conf("x"));
    let port = s.port();
    let slow = thread::spawn(move || get(port, "/slow"));
    thread::sleep(Duration::from_millis(100));
    s.signal(libc::SIGQUIT);
    let r = slow.join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"slow done\n");
    let st = s
        .wait_exit(Duration::from_secs(5))
        .expect("server did not exit after SIGQUIT");
    assert!(st.success());
    assert!(
        !s.prefix().join("logs/nginx.pid").exists(),
        "pid file left behind"
    );
}

#[test]
fn sigterm_stops_quickly() {
    let mut s = TestServer::start(&server_conf("x"));
    assert_eq!(get(s.port(), "/v").status, 200);
    let t = Instant::now();
    s.signal(libc::SIGTERM);
    assert!(s.wait_exit(Duration::from_secs(3)).is_some());
    assert!(t.elapsed() < Duration::from_secs(3));
}

#[test]
fn sigusr1_reopens_the_error_log() {
    let s = TestServer::start(&server_conf("x"));
    let log = s.error_log_path();
    let rotated = s.prefix().join("logs/error.log.1");
    std::fs::rename(&log, &rotated).unwrap();
    s.signal(libc::SIGUSR1);
    let t = Instant::now();
    while !log.exists() && t.elapsed() < Duration::from_secs(5) {
        thread::sleep(Duration::from_millis(50));
    }
    assert!(log.exists(), "the error log was not reopened");
    // new lines go to the new file
    let body = get(s.port(), "/nope").status;
    assert_eq!(body, 404);
    thread::sleep(Duration::from_millis(100));
    assert!(
        s.error_log().contains("reopening logs") || s.error_log().contains("open()"),
        "{}",
        s.error_log()
    );
}
