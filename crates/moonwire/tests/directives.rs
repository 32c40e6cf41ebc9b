//! Directives whose effect shows outside a response body: access logs,
//! keep-alive limits, code reloading, worker counts, daemon mode.

mod support;

use std::time::{Duration, Instant};

use support::{conf, get, Client, TestServer};

fn wait_for(mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(5) {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn access_log_combined_by_default_and_custom_formats() {
    let c = conf(
        "",
        "log_format short '$request_method $uri $status $arg_x';",
        r#"
        location = /a { access_log logs/access.log; return 200 "a\n"; }
        location = /b { access_log logs/short.log short; return 201 "b\n"; }
        location = /c { return 200 "c\n"; }
        "#,
    );
    let s = TestServer::start(&c);
    assert_eq!(get(s.port(), "/a").status, 200);
    assert_eq!(get(s.port(), "/b?x=7").status, 201);
    assert_eq!(get(s.port(), "/c").status, 200);
    let combined = s.prefix().join("logs/access.log");
    let short = s.prefix().join("logs/short.log");
    assert!(wait_for(
        || std::fs::read_to_string(&short).is_ok_and(|t| t.contains("GET /b 201 7"))
    ));
    let text = std::fs::read_to_string(&combined).unwrap();
    // 127.0.0.1 - - [22/Nov/2026:06:00:00 +0000] "GET /a HTTP/1.1" 200 2 "-" "-"
    let line = text.lines().next().expect("one line");
    assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
    assert!(
        line.contains("] \"GET /a HTTP/1.1\" 200 2 \"-\" \"-\""),
        "{line}"
    );
    // `access_log off` in the template's http block still applies to /c
    assert_eq!(text.lines().count(), 1, "{text}");
}

#[test]
fn keepalive_requests_closes_after_the_limit() {
    let c = conf(
        "",
        "keepalive_requests 2;",
        "location = /t { return 200 \"t\\n\"; }",
    );
    let s = TestServer::start(&c);
    let mut cl = Client::connect(s.port()).unwrap();
    let req = b"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let r1 = cl.request(req).unwrap();
    assert_eq!(r1.header("connection"), Some("keep-alive"));
    let r2 = cl.request(req).unwrap();
    assert_eq!(r2.header("connection"), Some("close"));
    assert!(cl.closed_within(Duration::from_secs(2)));
}

#[test]
fn keepalive_timeout_zero_disables_keepalive() {
    let c = conf(
        "",
        "keepalive_timeout 0;",
        "location = /t { return 200 \"t\\n\"; }",
    );
    let s = TestServer::start(&c);
    let mut cl = Client::connect(s.port()).unwrap();
    let r = cl
        .request(b"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    assert_eq!(r.header("connection"), Some("close"));
}

#[test]
fn lua_code_cache_off_reloads_files_on_every_request() {
    let c = conf(
        "",
        "lua_code_cache off;",
        "location = /t { content_by_lua_file html/handler.lua; }",
    );
    let s = TestServer::start_with(
        |p| {
            std::fs::create_dir_all(p.join("html")).unwrap();
            std::fs::write(p.join("html/handler.lua"), "ngx.say('one')\n").unwrap();
        },
        &c,
    );
    assert_eq!(get(s.port(), "/t").body, b"one\n");
    std::fs::write(s.prefix().join("html/handler.lua"), "ngx.say('two')\n").unwrap();
    assert_eq!(get(s.port(), "/t").body, b"two\n");
}

#[test]
fn lua_code_cache_on_keeps_the_first_compilation() {
    let c = conf(
        "",
        "",
        "location = /t { content_by_lua_file html/handler.lua; }",
    );
    let s = TestServer::start_with(
        |p| {
            std::fs::create_dir_all(p.join("html")).unwrap();
            std::fs::write(p.join("html/handler.lua"), "ngx.say('one')\n").unwrap();
        },
        &c,
    );
    assert_eq!(get(s.port(), "/t").body, b"one\n");
    std::fs::write(s.prefix().join("html/handler.lua"), "ngx.say('two')\n").unwrap();
    assert_eq!(get(s.port(), "/t").body, b"one\n");
}

#[test]
fn worker_processes_auto_starts_one_worker_per_cpu() {
    let c = conf(
        "",
        "",
        "location = /t { content_by_lua_block { ngx.say(ngx.worker.count()) } }",
    )
    .replace("worker_processes 1;", "worker_processes auto;");
    let s = TestServer::start(&c);
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    assert_eq!(get(s.port(), "/t").body, format!("{cpus}\n").into_bytes());
}

#[test]
fn error_log_stderr_writes_nginx_lines_to_stderr() {
    let c = conf(
        "",
        "",
        "location = /t { content_by_lua_block { ngx.log(ngx.ERR, 'to stderr') } }",
    )
    .replace("error_log logs/error.log debug;", "error_log stderr info;");
    let s = TestServer::start(&c);
    assert_eq!(get(s.port(), "/t").status, 200);
    assert!(
        wait_for(|| s.stderr().contains("[error]") && s.stderr().contains("to stderr")),
        "{}",
        s.stderr()
    );
}

#[test]
fn daemon_on_detaches_and_writes_the_pid_file() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path();
    std::fs::create_dir_all(prefix.join("conf")).unwrap();
    std::fs::create_dir_all(prefix.join("logs")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let text = conf("", "", "location = /t { return 200 \"daemon\\n\"; }")
        .replace("daemon off;", "daemon on;")
        .replace("listen 127.0.0.1:0;", &format!("listen 127.0.0.1:{port};"));
    std::fs::write(prefix.join("conf/nginx.conf"), text).unwrap();
    let st = std::process::Command::new(support::moonwire_bin())
        .args(["-p", prefix.to_str().unwrap(), "-c", "conf/nginx.conf"])
        .status()
        .unwrap();
    // the foreground process returns at once; the daemon keeps serving
    assert!(st.success());
    let pid_file = prefix.join("logs/nginx.pid");
    assert!(wait_for(|| pid_file.exists()), "no pid file");
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(wait_for(|| std::net::TcpStream::connect((
        "127.0.0.1",
        port
    ))
    .is_ok()));
    assert_eq!(get(port, "/t").body, b"daemon\n");
    // stop it like nginx -s stop does
    let st = std::process::Command::new(support::moonwire_bin())
        .args([
            "-p",
            prefix.to_str().unwrap(),
            "-c",
            "conf/nginx.conf",
            "-s",
            "stop",
        ])
        .status()
        .unwrap();
    assert!(st.success());
    // SAFETY: kill(pid, 0) only probes whether our daemon is still alive.
    assert!(
        wait_for(|| unsafe { libc::kill(pid, 0) } != 0),
        "daemon still running"
    );
}

#[test]
fn exit_worker_by_lua_runs_when_the_worker_quits() {
    let c = conf(
        "",
        r#"exit_worker_by_lua_block { ngx.log(ngx.WARN, "exit_worker in phase ", ngx.get_phase()) }"#,
        r#"location = /t { return 200 "t\n"; }"#,
    );
    let mut s = TestServer::start(&c);
    assert_eq!(get(s.port(), "/t").status, 200);
    s.signal(libc::SIGQUIT);
    assert!(s.wait_exit(Duration::from_secs(10)).is_some(), "no exit");
    let log = s.error_log();
    assert!(log.contains("exit_worker in phase exit_worker"), "{log}");
}

#[test]
fn init_by_lua_error_stops_the_start() {
    let c = conf(
        "",
        r#"init_by_lua_block { error("bad init") }"#,
        r#"location = /t { return 200 "t\n"; }"#,
    );
    let err = TestServer::try_start_with(|_| {}, &c, &[])
        .err()
        .expect("must not start");
    assert!(
        err.contains("init_by_lua error:") && err.contains("bad init"),
        "{err}"
    );
}

#[test]
fn duplicate_phase_handler_in_one_block_is_rejected() {
    let c = conf(
        "",
        "",
        "location = /t { access_by_lua_block { } access_by_lua_block { } }",
    );
    let err = TestServer::try_start_with(|_| {}, &c, &[])
        .err()
        .expect("must not start");
    assert!(
        err.contains("\"access_by_lua_block\" directive is duplicate in "),
        "{err}"
    );
    // inherited from the server level and replaced in the location: fine
    let c = conf(
        "",
        "",
        r#"access_by_lua_block { ngx.ctx.a = 1 }
        location = /t { access_by_lua_block { ngx.ctx.a = 2 } content_by_lua_block { ngx.say(ngx.ctx.a) } }"#,
    );
    let s = TestServer::start(&c);
    assert_eq!(get(s.port(), "/t").body, b"2\n");
}
