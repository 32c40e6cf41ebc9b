//! moonwire's command line (nginx's): -v/-V/-h, -t/-T, -g, -p/-c, -s, and
//! a few whole-server behaviours (malformed requests, keep-alive,
//! pipelining, concurrency, signals).

mod support;

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::{conf, get, moonwire_bin, request, TestServer};

const VERSION_LINE: &str = "nginx version: nginx/1.22.1 (moonwire 0.1.0)";

struct CliOut {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Run moonwire with `args` (in `cwd`), killing it after 10 s.
fn run_cli_in(args: &[&str], cwd: Option<&Path>) -> CliOut {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("out");
    let err_path = dir.path().join("err");
    let mut cmd = Command::new(moonwire_bin());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&out_path).unwrap())
        .stderr(fs::File::create(&err_path).unwrap())
        .env_remove("MOONWIRE_PORTS_FILE");
    if let Some(d) = cwd {
        cmd.current_dir(d);
    }
    let mut child = cmd.spawn().expect("spawn moonwire");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "moonwire {args:?} did not exit within 10 s\n--- stderr:\n{}",
                support::read_lossy(&err_path)
            );
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    CliOut {
        code: status.code(),
        stdout: support::read_lossy(&out_path),
        stderr: support::read_lossy(&err_path),
    }
}

fn run_cli(args: &[&str]) -> CliOut {
    run_cli_in(args, None)
}

/// A temporary prefix holding `files` (paths relative to the prefix).
fn prefix_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("moonwire-cli-")
        .tempdir()
        .unwrap();
    fs::create_dir_all(dir.path().join("logs")).unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    dir
}

fn prefix_arg(p: &Path) -> String {
    format!("{}/", p.display())
}

/// `-p PREFIX -c conf/nginx.conf -t` on a config text.
fn test_conf(text: &str) -> (CliOut, PathBuf, tempfile::TempDir) {
    let dir = prefix_with(&[("conf/nginx.conf", text)]);
    let conf_path = dir.path().join("conf/nginx.conf");
    let out = run_cli(&["-p", &prefix_arg(dir.path()), "-c", "conf/nginx.conf", "-t"]);
    (out, conf_path, dir)
}

fn assert_test_failed(out: &CliOut, conf_path: &Path, emerg: &str) {
    let want = format!(
        "nginx: [emerg] {emerg}\nnginx: configuration file {} test failed\n",
        conf_path.display()
    );
    assert_eq!(out.stderr, want, "stderr");
    assert_eq!(out.code, Some(1), "exit code; stderr: {}", out.stderr);
}

const MINIMAL: &str = "events {\n}\nhttp {\n    server {\n        listen 127.0.0.1:0;\n        location / {\n            return 200 \"ok\\n\";\n        }\n    }\n}\n";

// ---------------------------------------------------------------------------
// -v, -V, -h, bad options
// ---------------------------------------------------------------------------

#[test]
fn version_v() {
    let out = run_cli(&["-v"]);
    assert_eq!(out.code, Some(0));
    assert_eq!(out.stderr, format!("{VERSION_LINE}\n"));
    assert_eq!(out.stdout, "");
}

#[test]
fn version_big_v() {
    let out = run_cli(&["-V"]);
    assert_eq!(out.code, Some(0));
    assert!(
        out.stderr.starts_with(&format!("{VERSION_LINE}\n")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("configure arguments:"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn help() {
    for flag in ["-h", "-?"] {
        let out = run_cli(&[flag]);
        assert_eq!(out.code, Some(0), "{flag}");
        assert!(
            out.stderr.starts_with(&format!("{VERSION_LINE}\n")),
            "{flag}: {}",
            out.stderr
        );
        for want in [
            "Usage: ",
            "[-?hvVtTq] [-s signal] [-p prefix]",
            "[-e filename] [-c filename] [-g directives]",
            "Options:",
            "-s signal     : send signal to a master process: stop, quit, reopen, reload",
            "-p prefix     : set prefix path",
            "-c filename   : set configuration file (default: conf/nginx.conf)",
            "-g directives : set global directives out of configuration file",
        ] {
            assert!(
                out.stderr.contains(want),
                "{flag}: no {want:?} in\n{}",
                out.stderr
            );
        }
    }
}

#[test]
fn invalid_option() {
    let out = run_cli(&["-x"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stderr, "nginx: invalid option: \"x\"\n");
}

#[test]
fn option_missing_its_argument() {
    let out = run_cli(&["-c"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stderr, "nginx: option \"-c\" requires file name\n");
    let out = run_cli(&["-p"]);
    assert_eq!(out.stderr, "nginx: option \"-p\" requires directory name\n");
    let out = run_cli(&["-s"]);
    assert_eq!(out.stderr, "nginx: option \"-s\" requires signal name\n");
}

#[test]
fn invalid_signal_name() {
    let dir = prefix_with(&[("conf/nginx.conf", MINIMAL)]);
    let out = run_cli(&["-p", &prefix_arg(dir.path()), "-s", "foo"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stderr, "nginx: invalid option: \"-s foo\"\n");
}

// ---------------------------------------------------------------------------
// -t and configuration errors
// ---------------------------------------------------------------------------

#[test]
fn test_good_config() {
    let (out, conf_path, _dir) = test_conf(&conf("", "", "location / { return 200; }"));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(
        out.stderr,
        format!(
            "nginx: the configuration file {p} syntax is ok\nnginx: configuration file {p} test is successful\n",
            p = conf_path.display()
        )
    );
    assert_eq!(out.stdout, "");
}

#[test]
fn test_quiet() {
    let dir = prefix_with(&[("conf/nginx.conf", MINIMAL)]);
    let out = run_cli(&["-q", "-t", "-p", &prefix_arg(dir.path())]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stderr, "");
}

#[test]
fn test_does_not_start_a_server() {
    let dir = prefix_with(&[("conf/nginx.conf", &conf("", "", ""))]);
    let out = run_cli(&["-p", &prefix_arg(dir.path()), "-t"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(!dir.path().join("logs/nginx.pid").exists());
}

#[test]
fn test_unknown_directive() {
    let (out, p, _d) = test_conf("events {\n}\n\nfoo bar;\n");
    assert_test_failed(
        &out,
        &p,
        &format!("unknown directive \"foo\" in {}:4", p.display()),
    );
}

#[test]
fn test_unknown_directive_in_location() {
    let (out, p, _d) = test_conf(&conf("", "", "location / {\n    no_such_thing on;\n}"));
    let line = conf("", "", "location / {\n    no_such_thing on;\n}")
        .lines()
        .position(|l| l.contains("no_such_thing"))
        .unwrap()
        + 1;
    assert_test_failed(
        &out,
        &p,
        &format!(
            "unknown directive \"no_such_thing\" in {}:{line}",
            p.display()
        ),
    );
}

#[test]
fn test_directive_not_allowed_here() {
    let (out, p, _d) = test_conf("events {\n}\nhttp {\n    listen 80;\n}\n");
    assert_test_failed(
        &out,
        &p,
        &format!(
            "\"listen\" directive is not allowed here in {}:4",
            p.display()
        ),
    );
}

#[test]
fn test_content_by_lua_not_allowed_in_server() {
    let (out, p, _d) = test_conf(
        "events {\n}\nhttp {\n    server {\n        content_by_lua_block { ngx.say(1) }\n    }\n}\n",
    );
    assert_test_failed(
        &out,
        &p,
        &format!(
            "\"content_by_lua_block\" directive is not allowed here in {}:5",
            p.display()
        ),
    );
}

#[test]
fn test_invalid_number_of_arguments() {
    let (out, p, _d) = test_conf("worker_processes 1 2;\nevents {\n}\n");
    assert_test_failed(
        &out,
        &p,
        &format!(
            "invalid number of arguments in \"worker_processes\" directive in {}:1",
            p.display()
        ),
    );
}

#[test]
fn test_unexpected_close_brace() {
    let (out, p, _d) = test_conf("events {\n}\n}\n");
    assert_test_failed(&out, &p, &format!("unexpected \"}}\" in {}:3", p.display()));
}

#[test]
fn test_unexpected_end_of_file() {
    let (out, p, _d) = test_conf("events {\n\n");
    assert_test_failed(
        &out,
        &p,
        &format!(
            "unexpected end of file, expecting \"}}\" in {}:3",
            p.display()
        ),
    );
}

#[test]
fn test_missing_include_file() {
    let (out, p, d) = test_conf("events {\n}\ninclude missing.conf;\n");
    assert_test_failed(
        &out,
        &p,
        &format!(
            "open() \"{}\" failed (2: No such file or directory) in {}:3",
            d.path().join("conf/missing.conf").display(),
            p.display()
        ),
    );
}

#[test]
fn test_error_in_included_file_names_that_file() {
    let dir = prefix_with(&[
        ("conf/nginx.conf", "events {\n}\ninclude extra.conf;\n"),
        ("conf/extra.conf", "\nbogus;\n"),
    ]);
    let out = run_cli(&["-p", &prefix_arg(dir.path()), "-t"]);
    assert_test_failed(
        &out,
        &dir.path().join("conf/nginx.conf"),
        &format!(
            "unknown directive \"bogus\" in {}:2",
            dir.path().join("conf/extra.conf").display()
        ),
    );
}

#[test]
fn test_missing_config_file() {
    let dir = prefix_with(&[]);
    let p = dir.path().join("conf/nope.conf");
    let out = run_cli(&["-p", &prefix_arg(dir.path()), "-c", "conf/nope.conf", "-t"]);
    assert_test_failed(
        &out,
        &p,
        &format!(
            "open() \"{}\" failed (2: No such file or directory)",
            p.display()
        ),
    );
}

// ---------------------------------------------------------------------------
// -T
// ---------------------------------------------------------------------------

#[test]
fn dump_config_with_includes() {
    let main = "events {\n}\ninclude extra.conf;\n";
    let extra = "http {\n    server { listen 127.0.0.1:0; }\n}\n";
    let dir = prefix_with(&[("conf/nginx.conf", main), ("conf/extra.conf", extra)]);
    let out = run_cli(&["-p", &prefix_arg(dir.path()), "-c", "conf/nginx.conf", "-T"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let c = dir.path().join("conf");
    assert!(
        out.stderr.contains("syntax is ok") && out.stderr.contains("test is successful"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stdout,
        format!(
            "# configuration file {}:\n{main}\n# configuration file {}:\n{extra}\n",
            c.join("nginx.conf").display(),
            c.join("extra.conf").display()
        )
    );
}

// ---------------------------------------------------------------------------
// -g
// ---------------------------------------------------------------------------

#[test]
fn global_directives() {
    let dir = prefix_with(&[("conf/nginx.conf", MINIMAL)]);
    let out = run_cli(&[
        "-p",
        &prefix_arg(dir.path()),
        "-g",
        "worker_processes 2;",
        "-t",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("test is successful"), "{}", out.stderr);
}

#[test]
fn global_directive_duplicate_of_the_file() {
    let text = format!("worker_processes 1;\n{MINIMAL}");
    let dir = prefix_with(&[("conf/nginx.conf", &text)]);
    let p = dir.path().join("conf/nginx.conf");
    let out = run_cli(&[
        "-p",
        &prefix_arg(dir.path()),
        "-g",
        "worker_processes 2;",
        "-t",
    ]);
    assert_test_failed(
        &out,
        &p,
        &format!(
            "\"worker_processes\" directive is duplicate in {}:1",
            p.display()
        ),
    );
}

#[test]
fn global_directive_unknown() {
    let dir = prefix_with(&[("conf/nginx.conf", MINIMAL)]);
    let p = dir.path().join("conf/nginx.conf");
    let out = run_cli(&["-p", &prefix_arg(dir.path()), "-g", "foo;", "-t"]);
    assert_test_failed(&out, &p, "unknown directive \"foo\" in command line");
}

#[test]
fn global_directive_missing_semicolon() {
    let dir = prefix_with(&[("conf/nginx.conf", MINIMAL)]);
    let p = dir.path().join("conf/nginx.conf");
    let out = run_cli(&[
        "-p",
        &prefix_arg(dir.path()),
        "-g",
        "worker_processes 2",
        "-t",
    ]);
    assert_test_failed(
        &out,
        &p,
        "unexpected end of parameter, expecting \";\" in command line",
    );
}

#[test]
fn global_directive_takes_effect() {
    // No pid directive in the file: -g gives it.
    let text =
        "daemon off;\nmaster_process off;\nerror_log logs/error.log debug;\n".to_string() + MINIMAL;
    let mut s = TestServer::try_start_with(|_| {}, &text, &["-g", "pid logs/custom.pid;"])
        .unwrap_or_else(|e| panic!("{e}"));
    let pid_path = s.prefix().join("logs/custom.pid");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !pid_path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let pid = fs::read_to_string(&pid_path).expect("custom pid file");
    assert_eq!(pid.trim(), s.pid().to_string());
    assert!(!s.prefix().join("logs/nginx.pid").exists());
    assert_eq!(s.get("/").text(), "ok\n");
    s.stop();
}

// ---------------------------------------------------------------------------
// -p and -c resolution
// ---------------------------------------------------------------------------

#[test]
fn conf_path_is_relative_to_the_prefix_not_the_cwd() {
    let dir = prefix_with(&[("conf/other.conf", MINIMAL)]);
    let elsewhere = tempfile::tempdir().unwrap();
    let out = run_cli_in(
        &["-p", &prefix_arg(dir.path()), "-c", "conf/other.conf", "-t"],
        Some(elsewhere.path()),
    );
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "configuration file {} test is successful",
            dir.path().join("conf/other.conf").display()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn absolute_conf_path() {
    let confdir = tempfile::tempdir().unwrap();
    let conf_file = confdir.path().join("abs.conf");
    fs::write(&conf_file, MINIMAL).unwrap();
    let dir = prefix_with(&[]);
    let out = run_cli(&[
        "-p",
        &prefix_arg(dir.path()),
        "-c",
        conf_file.to_str().unwrap(),
        "-t",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "configuration file {} test is successful",
            conf_file.display()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn default_conf_is_prefix_conf_nginx_conf() {
    let dir = prefix_with(&[("conf/nginx.conf", MINIMAL)]);
    let out = run_cli(&["-p", &prefix_arg(dir.path()), "-t"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "the configuration file {} syntax is ok",
            dir.path().join("conf/nginx.conf").display()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn relative_prefix_is_relative_to_the_cwd() {
    let parent = tempfile::tempdir().unwrap();
    let p = parent.path().join("pfx");
    fs::create_dir_all(p.join("conf")).unwrap();
    fs::write(p.join("conf/nginx.conf"), MINIMAL).unwrap();
    let out = run_cli_in(&["-p", "pfx/", "-t"], Some(parent.path()));
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!(
            "the configuration file {} syntax is ok",
            p.join("conf/nginx.conf").display()
        )),
        "{}",
        out.stderr
    );
}

#[test]
fn include_is_relative_to_the_conf_dir() {
    let dir = prefix_with(&[
        ("conf/sub/main.conf", "events {\n}\ninclude inc.conf;\n"),
        ("conf/sub/inc.conf", "http {\n}\n"),
    ]);
    let out = run_cli(&[
        "-p",
        &prefix_arg(dir.path()),
        "-c",
        "conf/sub/main.conf",
        "-T",
    ]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!(
            "# configuration file {}:",
            dir.path().join("conf/sub/inc.conf").display()
        )),
        "{}",
        out.stdout
    );
}

#[test]
fn running_server_writes_its_logs_and_pid_under_the_prefix() {
    let mut s = TestServer::start(&conf("", "", "location = /t { return 200 \"up\\n\"; }"));
    assert_eq!(s.get("/t").text(), "up\n");
    assert_eq!(s.pid_file(), Some(s.pid()));
    assert!(s.error_log_path().exists());
    let (status, clean) = s.stop();
    assert!(clean, "did not exit on SIGTERM");
    assert!(status.unwrap().success(), "{status:?}");
    assert!(
        !s.prefix().join("logs/nginx.pid").exists(),
        "pid file left after exit"
    );
}

#[test]
fn a_bad_config_does_not_start() {
    let e = TestServer::try_start_with(|_| {}, &conf("", "", "bogus_directive;"), &[])
        .err()
        .expect("started with a bad config");
    assert!(e.contains("unknown directive \"bogus_directive\""), "{e}");
}

#[test]
fn a_port_in_use_does_not_start() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let text = conf("", "", "").replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    // SO_REUSEPORT would let a second socket bind; nginx does not set it by
    // default, so the bind fails with EADDRINUSE.
    let e = TestServer::try_start_with(|_| {}, &text, &[])
        .err()
        .expect("started on a port in use");
    assert!(
        e.contains(&format!(
            "bind() to 127.0.0.1:{port} failed (98: Address already in use)"
        )),
        "{e}"
    );
}

// ---------------------------------------------------------------------------
// -s
// ---------------------------------------------------------------------------

fn signal_cli(s: &TestServer, sig: &str) -> CliOut {
    run_cli(&[
        "-p",
        &prefix_arg(s.prefix()),
        "-c",
        "conf/nginx.conf",
        "-s",
        sig,
    ])
}

#[test]
fn signal_stop() {
    let mut s = TestServer::start(&conf("", "", "location = /t { return 200 \"up\\n\"; }"));
    assert_eq!(s.get("/t").status, 200);
    let out = signal_cli(&s, "stop");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stderr, "");
    let st = s
        .wait_exit(Duration::from_secs(10))
        .expect("server did not exit after -s stop");
    assert!(st.success(), "{st:?}");
    assert!(!s.prefix().join("logs/nginx.pid").exists());
}

#[test]
fn signal_quit_finishes_requests_in_flight() {
    let mut s = TestServer::start(&conf(
        "",
        "",
        "location = /slow { content_by_lua_block { ngx.sleep(0.3) ngx.say(\"finished\") } }",
    ));
    let mut c = s.client();
    c.send(b"GET /slow HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let out = signal_cli(&s, "quit");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let r = c.read_response(false).expect("the request in flight");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "finished\n");
    let st = s
        .wait_exit(Duration::from_secs(10))
        .expect("server did not exit after -s quit");
    assert!(st.success(), "{st:?}");
}

#[test]
fn signal_reload_applies_the_new_config() {
    let mut s = TestServer::start(&conf("", "", "location = /t { return 200 \"v1\\n\"; }"));
    assert_eq!(s.get("/t").text(), "v1\n");
    let port = s.port();
    fs::write(
        s.prefix().join("conf/nginx.conf"),
        conf(
            "",
            "",
            "location = /t { content_by_lua_block { ngx.say(\"v2\") } }",
        ),
    )
    .unwrap();
    let out = signal_cli(&s, "reload");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = String::new();
    while Instant::now() < deadline {
        last = get(port, "/t").text();
        if last == "v2\n" {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(last, "v2\n", "the new config was not applied");
    assert!(s.is_running());
    assert_eq!(s.pid_file(), Some(s.pid()));
    let (_, clean) = s.stop();
    assert!(clean);
}

#[test]
fn reload_with_a_bad_config_keeps_the_old_one() {
    let mut s = TestServer::start(&conf("", "", "location = /t { return 200 \"old\\n\"; }"));
    let before = s.error_log_len();
    fs::write(s.prefix().join("conf/nginx.conf"), "events {\n}\nbroken;\n").unwrap();
    s.signal(libc::SIGHUP);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !s.error_log_since(before).contains("[emerg]") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let log = s.error_log_since(before);
    assert!(
        log.contains("unknown directive \"broken\""),
        "no [emerg] in the log:\n{log}"
    );
    assert_eq!(s.get("/t").text(), "old\n");
    assert!(s.is_running());
}

#[test]
fn signal_without_a_running_server() {
    let dir = prefix_with(&[("conf/nginx.conf", MINIMAL)]);
    let out = run_cli(&["-p", &prefix_arg(dir.path()), "-s", "stop"]);
    assert_eq!(out.code, Some(1));
    assert_eq!(
        out.stderr,
        format!(
            "nginx: [error] open() \"{}\" failed (2: No such file or directory)\n",
            dir.path().join("logs/nginx.pid").display()
        )
    );
}

#[test]
fn sigterm_and_sigint_stop_the_server() {
    for sig in [libc::SIGTERM, libc::SIGINT] {
        let mut s = TestServer::start(&conf("", "", ""));
        s.signal(sig);
        let st = s
            .wait_exit(Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no exit on signal {sig}"));
        assert!(st.success(), "signal {sig}: {st:?}");
    }
}

#[test]
fn sigusr1_reopens_the_error_log() {
    let mut s = TestServer::start(&conf(
        "",
        "",
        "location = /t { content_by_lua_block { ngx.log(ngx.ERR, \"after-reopen\") } }",
    ));
    let log = s.error_log_path();
    let rotated = s.prefix().join("logs/error.log.1");
    fs::rename(&log, &rotated).unwrap();
    s.signal(libc::SIGUSR1);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !log.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(log.exists(), "error.log was not reopened");
    assert_eq!(s.get("/t").status, 200);
    let deadline = Instant::now() + Duration::from_secs(2);
    while !s.error_log().contains("after-reopen") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(s.error_log().contains("after-reopen"), "{}", s.error_log());
    assert!(s.is_running());
}

// ---------------------------------------------------------------------------
// The server on the wire
// ---------------------------------------------------------------------------

fn lua_server() -> TestServer {
    TestServer::start(&conf(
        "",
        "",
        r#"
        location = /t { content_by_lua_block { ngx.say("ok") } }
        location = /conn {
            content_by_lua_block {
                ngx.say(ngx.var.connection, " ", ngx.var.connection_requests)
            }
        }
        location = /echo {
            content_by_lua_block { ngx.say(ngx.var.request_method, " ", ngx.var.uri) }
        }
        location = /sleep {
            content_by_lua_block { ngx.sleep(0.2) ngx.say("slept") }
        }
        location = /err {
            content_by_lua_block { error("boom") }
        }
        "#,
    ))
}

#[test]
fn malformed_request_gets_400_and_the_server_keeps_serving() {
    let s = lua_server();
    let before = s.error_log_len();
    for raw in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /t HTTP/9.9\r\nHost: x\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET /t HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"GET /t HTTP/1.1\r\n\r\n",
    ] {
        let r = support::try_request(s.port(), raw);
        let r = r.unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(raw)));
        let want = if raw.starts_with(b"GET /t HTTP/9.9") {
            505
        } else {
            400
        };
        assert_eq!(r.status, want, "{:?}", String::from_utf8_lossy(raw));
        assert_eq!(r.header("connection"), Some("close"));
        assert!(r.text().contains("<center><h1>"), "{}", r.text());
        let ok = get(s.port(), "/t");
        assert_eq!((ok.status, ok.text().as_str()), (200, "ok\n"));
    }
    let log = s.error_log_since(before);
    assert!(!log.contains("[alert]") && !log.contains("[crit]"), "{log}");
}

#[test]
fn bad_request_line_is_logged_at_info() {
    let s = lua_server();
    let before = s.error_log_len();
    let r = request(s.port(), b"GARBAGE\r\n\r\n");
    assert_eq!(r.status, 400);
    let deadline = Instant::now() + Duration::from_millis(500);
    while !s
        .error_log_since(before)
        .contains("client sent invalid method")
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    let log = s.error_log_since(before);
    assert!(
        log.contains("[info]")
            && log.contains(
                "client sent invalid method while reading client request line, client: 127.0.0.1"
            ),
        "{log}"
    );
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let s = lua_server();
    let mut c = s.client();
    let mut conn_id = None;
    for i in 1..=3 {
        let r = c.get("/conn").unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("connection"), Some("keep-alive"));
        let text = r.text();
        let mut parts = text.split_whitespace();
        let id = parts.next().unwrap().to_string();
        assert_eq!(parts.next(), Some(i.to_string().as_str()), "{text}");
        if let Some(prev) = &conn_id {
            assert_eq!(prev, &id);
        }
        conn_id = Some(id);
    }
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let s = lua_server();
    let mut c = s.client();
    c.send(
        b"GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n\
          HEAD /echo HTTP/1.1\r\nHost: localhost\r\n\r\n\
          POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc\
          GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let r1 = c.read_response(false).unwrap();
    assert_eq!(r1.text(), "GET /echo\n");
    let r2 = c.read_response(true).unwrap();
    assert_eq!(r2.status, 200);
    assert!(r2.body.is_empty());
    let r3 = c.read_response(false).unwrap();
    assert_eq!(r3.text(), "POST /echo\n");
    let r4 = c.read_response(false).unwrap();
    assert_eq!(r4.text(), "ok\n");
    assert_eq!(r4.header("connection"), Some("close"));
    assert!(c.closed_within(Duration::from_secs(5)));
    assert!(c.pending().is_empty(), "{:?}", c.pending());
}

#[test]
fn http10_closes_the_connection_by_default() {
    let s = lua_server();
    let mut c = s.client();
    let r = c.request(b"GET /t HTTP/1.0\r\n\r\n").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.version, "HTTP/1.1");
    assert!(!r.chunked);
    assert_eq!(r.text(), "ok\n");
    assert!(c.closed_within(Duration::from_secs(5)));
}

#[test]
fn http10_keep_alive_on_request() {
    let s = lua_server();
    let mut c = s.client();
    for _ in 0..2 {
        let r = c
            .request(b"GET /t HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            .unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.header("connection"), Some("keep-alive"));
        assert_eq!(r.text(), "ok\n");
    }
}

#[test]
fn sleeping_requests_do_not_block_each_other() {
    let s = lua_server();
    let port = s.port();
    let t0 = Instant::now();
    let handles: Vec<_> = (0..4)
        .map(|_| std::thread::spawn(move || get(port, "/sleep")))
        .collect();
    for h in handles {
        let r = h.join().unwrap();
        assert_eq!(r.text(), "slept\n");
    }
    let dt = t0.elapsed();
    assert!(
        dt < Duration::from_millis(700),
        "4 x 0.2 s sleeps took {dt:?}"
    );
}

#[test]
fn a_lua_error_does_not_break_the_next_requests() {
    let s = lua_server();
    let mut c = s.client();
    let r = c.get("/err").unwrap();
    assert_eq!(r.status, 500);
    // nginx turns keep-alive off for a 500.
    assert_eq!(r.header("connection"), Some("close"));
    assert!(c.closed_within(Duration::from_secs(5)));
    let mut c = s.client();
    let r = c.get("/t").unwrap();
    assert_eq!((r.status, r.text().as_str()), (200, "ok\n"));
    assert_eq!(r.header("connection"), Some("keep-alive"));
    assert_eq!(get(s.port(), "/t").text(), "ok\n");
    assert!(s
        .error_log()
        .contains("lua entry thread aborted: runtime error:"));
}

#[test]
fn client_closing_early_is_harmless() {
    let s = lua_server();
    {
        let mut c = s.client();
        c.send(b"GET /sleep HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
    }
    {
        let mut c = s.client();
        c.send(b"GET /t HTTP/1.1\r\nHo").unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(get(s.port(), "/t").text(), "ok\n");
    let log = s.error_log();
    assert!(!log.contains("[alert]") && !log.contains("[crit]"), "{log}");
}

#[test]
fn request_body_with_content_length_and_chunked() {
    let s = lua_server();
    let mut c = s.client();
    let r = c
        .request(b"POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello")
        .unwrap();
    assert_eq!(r.text(), "POST /echo\n");
    let r = c
        .request(
            b"POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n\
              5\r\nhello\r\n0\r\n\r\n",
        )
        .unwrap();
    assert_eq!(r.text(), "POST /echo\n");
    let r = c.get("/t").unwrap();
    assert_eq!(r.text(), "ok\n");
}

#[test]
fn server_header_and_date() {
    let s = lua_server();
    let r = get(s.port(), "/t");
    assert_eq!(r.header("server"), Some("moonwire/0.1.0"));
    let date = r.header("date").expect("Date header");
    assert!(date.ends_with(" GMT") && date.len() == 29, "{date}");
}

#[test]
fn large_response_body() {
    let s = TestServer::start(&conf(
        "",
        "",
        "location = /big { content_by_lua_block { for i = 1, 200 do ngx.print(string.rep(\"x\", 9999), \"\\n\") end } }",
    ));
    let r = get(s.port(), "/big");
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), 200 * 10000);
    assert!(r.body.iter().all(|&b| b == b'x' || b == b'\n'));
}

#[test]
fn raw_client_sees_the_same_bytes() {
    // The support client against a raw read: the whole exchange, byte for byte.
    let s = lua_server();
    let mut stream = std::net::TcpStream::connect(s.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    use std::io::Write;
    stream
        .write_all(b"GET /t HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut all = Vec::new();
    stream.read_to_end(&mut all).unwrap();
    let text = String::from_utf8_lossy(&all);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.contains("\r\nTransfer-Encoding: chunked\r\n"),
        "{text}"
    );
    assert!(text.ends_with("\r\n0\r\n\r\n"), "{text}");
}
