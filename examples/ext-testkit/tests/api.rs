//! The native extension API end to end: a moonwire binary with the
//! `testkit` modules, driven over HTTP. Each test starts its own server, so
//! the process-wide counters (`/stats`) start at zero.

mod common;

use std::time::{Duration, Instant};

use common::{assert_clean_log, get, stat, wait_for, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_ext-testkit");

/// Each location runs `lua` with `tk` = require "testkit" and `timed` =
/// require "testkit.timed" in scope.
fn server(locations: &[(&str, &str)], extra: &str) -> TestServer {
    let mut server = common::stats_location(r##"require("testkit").stats()"##);
    for (path, lua) in locations {
        server.push_str(&format!(
            "location = {path} {{\n{extra}\ncontent_by_lua_block {{\nlocal tk = require \"testkit\"\nlocal timed = require \"testkit.timed\"\n{lua}\n}}\n}}\n"
        ));
    }
    common::start(BIN, "", &server)
}

fn stats(s: &TestServer) -> String {
    get(s.port(), "/stats").text()
}

#[test]
fn values_cross_the_boundary_unchanged() {
    let s = server(
        &[(
            "/t",
            r##"
            local n = select("#", tk.echo(nil, true, false, 42, -2.5, "bin\0ary", ngx.null, {}, { 1, 2, { k = "v", [10] = "x" } }))
            local a, b, c, d, e, f, g, h, i = tk.echo(nil, true, false, 42, -2.5, "bin\0ary", ngx.null, {}, { 1, 2, { k = "v", [10] = "x" } })
            ngx.say(n, " ", tostring(a), " ", b, " ", c, " ", d, " ", e, " ", #f, " ", f == "bin\0ary", " ", g == ngx.null)
            ngx.say(type(h), " ", next(h))
            ngx.say(#i, " ", i[1], i[2], " ", i[3].k, " ", i[3][10])
            ngx.say(table.concat({ tk.echo(2^53, 0.1, 1e300, -7) }, " "))
            ngx.say(select("#", tk.echo()))
            "##,
        )],
        "",
    );
    assert_eq!(
        s.get("/t").text(),
        "9 nil true false 42 -2.5 7 true true\ntable nil\n3 12 v x\n9.007199254741e+15 0.1 1e+300 -7\n0\n"
    );
    assert_clean_log(&s);
}

#[test]
fn sync_errors_are_nil_err_or_lua_errors() {
    let s = server(
        &[
            (
                "/fail",
                r##"
                local r, err = tk.fail("no such user")
                ngx.say(r, " ", err)
                "##,
            ),
            (
                "/raise",
                r##"
                local ok, err = pcall(function() tk.raise("misused") end)
                ngx.say(err)
                "##,
            ),
            (
                "/args",
                r##"
                local function try(...) local ok, err = pcall(...) ngx.say(err) end
                try(function() tk.add(1, "x") end)
                try(function() tk.add(1) end)
                try(function() tk.echo(print) end)
                try(function() tk.echo(1, { { print } }) end)
                local t = {} t[1] = t
                try(function() tk.echo(t) end)
                try(function() tk.later("soon") end)
                ngx.say(tk.add("1", 2.5))
                "##,
            ),
            ("/panic", r##"ngx.say(pcall(tk.panic))"##),
            ("/uncaught", r##"tk.raise("boom")"##),
        ],
        "",
    );
    assert_eq!(s.get("/fail").text(), "nil no such user\n");
    let t = s.get("/raise").text();
    assert!(
        t.starts_with("content_by_lua(nginx.conf:") && t.ends_with("):5: misused\n"),
        "{t}"
    );
    let t = s.get("/args").text();
    let lines: Vec<&str> = t
        .lines()
        .map(|l| l.split_once(": ").map_or(l, |(_, m)| m))
        .collect();
    assert_eq!(
        lines,
        [
            "bad argument #2 to 'add' (number expected, got string)",
            "bad argument #2 to 'add' (number expected, got no value)",
            "bad argument #1 to 'echo' (nil, boolean, number, string or table expected, got function)",
            "bad argument #2 to 'echo' (bad data type function found)",
            "bad argument #1 to 'echo' (table nested too deep)",
            "bad argument #1 to 'later' (number expected, got string)",
            "3.5",
        ],
        "{t}"
    );
    assert_eq!(
        s.get("/panic").text(),
        "falseextension function 'panic' panicked\n"
    );
    // the worker survived the panic
    assert_eq!(s.get("/fail").status, 200);
    let r = s.get("/uncaught");
    assert_eq!(r.status, 500);
    let log = s.error_log();
    assert!(
        log.contains("lua entry thread aborted: runtime error: content_by_lua(nginx.conf:")
            && log.contains("boom"),
        "{log}"
    );
}

#[test]
fn completions_deliver_values_errors_and_drops() {
    let s = server(
        &[(
            "/t",
            r##"
            local a, b, c, d = tk.later(30, "a", 2, true, { x = 1 })
            ngx.say(a, b, c, d.x)
            ngx.say(tk.later_fail(10, "remote said no"))
            ngx.say(tk.instant("right away"))
            ngx.say(tk.drop())
            ngx.say(tk.drop_later(20))
            ngx.say(tk.refuse("queue full"))
            "##,
        )],
        "",
    );
    let body = s.get("/t").text();
    let lines = body.lines();
    assert_eq!(
        lines.collect::<Vec<_>>(),
        [
            "a2true1",
            "nilremote said no",
            "right away",
            "nilcompletion dropped",
            "nilcompletion dropped",
            "nilqueue full",
        ]
    );
    let st = stats(&s);
    assert_eq!(stat(&st, "pending"), 0, "{st}");
    assert_eq!(stat(&st, "completed"), 3, "{st}");
    assert_eq!(stat(&st, "dropped"), 3, "{st}");
    assert_eq!(stat(&st, "cancelled"), 0, "{st}");
    assert_clean_log(&s);
}

#[test]
fn futures_deliver_values_and_errors() {
    let s = server(
        &[(
            "/t",
            r##"
            ngx.say(tk.sleep(20, "slept", 1))
            ngx.say(tk.sleep_fail(10, "too slow"))
            ngx.say(pcall(tk.sleep, -1))
            "##,
        )],
        "",
    );
    assert_eq!(
        s.get("/t").text(),
        "slept1\nniltoo slow\nfalsebad argument #1 to 'sleep' (negative delay)\n"
    );
    assert_eq!(stat(&stats(&s), "sleeps_dropped"), 0);
}

#[test]
fn waits_work_in_pcall_coroutines_light_threads_and_timers() {
    let s = server(
        &[
            (
                "/t",
                r##"
                ngx.say(pcall(tk.later, 10, "in pcall"))
                local co = coroutine.wrap(function(x)
                    local y = tk.sleep(10, x .. "+sleep")
                    return tk.later(10, y .. "+later")
                end)
                ngx.say(co("in coroutine"))
                ngx.update_time()
                local t0 = ngx.now()
                local a = ngx.thread.spawn(tk.later, 200, "a")
                local b = ngx.thread.spawn(tk.sleep, 200, "b")
                local c = ngx.thread.spawn(function() return tk.later(100, "c") end)
                local _, ra = ngx.thread.wait(a)
                local _, rb = ngx.thread.wait(b)
                local _, rc = ngx.thread.wait(c)
                ngx.update_time()
                ngx.say(ra, rb, rc, " in parallel: ", ngx.now() - t0 < 0.35)
                "##,
            ),
            (
                "/timer",
                r##"
                ngx.timer.at(0, function()
                    local v = tk.later(10, "from a timer")
                    ngx.log(ngx.WARN, "timer got: ", v)
                end)
                ngx.say("ok")
                "##,
            ),
            (
                "/sort",
                r##"
                local ok, err = pcall(table.sort, { 3, 1, 2 }, function(x, y)
                    tk.later(1)
                    return x < y
                end)
                ngx.say(err)
                "##,
            ),
        ],
        "",
    );
    assert_eq!(
        s.get("/t").text(),
        "truein pcall\nin coroutine+sleep+later\nabc in parallel: true\n"
    );
    assert_eq!(s.get("/timer").text(), "ok\n");
    let log = wait_for_log(&s, "timer got: from a timer");
    assert!(log.contains("timer got: from a timer"), "{log}");
    let t = s.get("/sort").text();
    assert!(
        t.ends_with(": attempt to yield across C-call boundary\n"),
        "{t}"
    );
    assert_eq!(stat(&stats(&s), "pending"), 0);
    assert_clean_log(&s);
}

fn wait_for_log(s: &TestServer, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = s.error_log();
        if log.contains(what) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn completion_fired_from_a_foreign_thread_after_the_client_aborted() {
    let s = server(
        &[(
            "/t",
            r##"
            local v = tk.later(400, "too late")
            ngx.log(ngx.WARN, "resumed with ", v)
            "##,
        )],
        "lua_check_client_abort on;",
    );
    let mut c = common::Client::connect(s.port()).expect("connect");
    c.send(b"GET /t HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .expect("send");
    // the call is pending: the request waits for the foreign thread
    let st = wait_for(s.port(), "/stats", Duration::from_secs(5), |b| {
        stat(b, "pending") == 1
    });
    assert_eq!(stat(&st, "pending"), 1, "{st}");
    drop(c);
    // the request ends (499) and drops its wait; the thread fires later into the void
    let st = wait_for(s.port(), "/stats", Duration::from_secs(5), |b| {
        stat(b, "late") == 1
    });
    assert_eq!(stat(&st, "pending"), 0, "{st}");
    assert_eq!(stat(&st, "cancelled"), 1, "{st}");
    assert_eq!(stat(&st, "late"), 1, "{st}");
    assert_eq!(stat(&st, "completed"), 0, "{st}");
    assert!(!s.error_log().contains("resumed with"));
    // and the worker is fine
    assert_eq!(s.get("/stats").status, 200);
    assert_clean_log(&s);
}

#[test]
fn completion_never_fired_while_the_request_exits() {
    let s = server(
        &[
            (
                "/exit",
                r##"
                ngx.thread.spawn(function()
                    ngx.sleep(0.05)
                    ngx.say("gave up waiting")
                    ngx.exit(200)
                end)
                tk.never()
                ngx.say("unreachable")
                "##,
            ),
            (
                "/release",
                r##"
                ngx.say(tk.release("late value"))
                "##,
            ),
        ],
        "",
    );
    for _ in 0..3 {
        assert_eq!(s.get("/exit").text(), "gave up waiting\n");
    }
    let st = stats(&s);
    assert_eq!(stat(&st, "pending"), 0, "{st}");
    assert_eq!(stat(&st, "cancelled"), 3, "{st}");
    assert_eq!(stat(&st, "kept"), 3, "{st}");
    // the kept completions can still be fired: nobody gets them, nothing breaks
    assert_eq!(s.get("/release").text(), "30\n");
    let st = stats(&s);
    assert_eq!(stat(&st, "late"), 3, "{st}");
    assert_eq!(stat(&st, "kept"), 0, "{st}");
    assert_clean_log(&s);
}

#[test]
fn killed_light_thread_cancels_its_future() {
    let s = server(
        &[(
            "/t",
            r##"
            local t = ngx.thread.spawn(tk.sleep, 1000, "never seen")
            ngx.thread.kill(t)
            ngx.say("killed")
            "##,
        )],
        "",
    );
    let t0 = Instant::now();
    assert_eq!(s.get("/t").text(), "killed\n");
    assert!(t0.elapsed() < Duration::from_millis(900));
    let st = stats(&s);
    assert_eq!(stat(&st, "pending"), 0, "{st}");
    assert_eq!(stat(&st, "cancelled"), 1, "{st}");
    assert_eq!(stat(&st, "sleeps_dropped"), 1, "{st}");
}

#[test]
fn module_timeout_ends_the_wait() {
    let s = server(
        &[(
            "/t",
            r##"
            ngx.update_time()
            local t0 = ngx.now()
            local r, err = timed.never()
            ngx.update_time()
            local dt = ngx.now() - t0
            ngx.say(r, " ", err, " ", dt >= 0.19 and dt < 0.5)
            ngx.say(timed.sleep(1000))
            ngx.say(timed.later(10))
            ngx.say(timed.sleep(10))
            "##,
        )],
        "",
    );
    assert_eq!(
        s.get("/t").text(),
        "nil timeout true\nniltimeout\nin time\nin time\n"
    );
    let st = stats(&s);
    assert_eq!(stat(&st, "timed_out"), 2, "{st}");
    assert_eq!(stat(&st, "pending"), 0, "{st}");
    assert_eq!(stat(&st, "sleeps_dropped"), 1, "{st}");
    assert_eq!(stat(&st, "kept"), 1, "{st}");
}

#[test]
fn extensions_load_in_every_worker() {
    let conf = common::conf_with_level(
        "info",
        "",
        "",
        r##"
        location = /t {
            content_by_lua_block {
                ngx.say(ngx.worker.id(), " ", require("testkit").later(5, "ok"))
            }
        }
        "##,
    )
    .replace("worker_processes 1;", "worker_processes 2;");
    let s =
        TestServer::try_start_bin(BIN, false, |_| {}, &conf, &[]).unwrap_or_else(|e| panic!("{e}"));
    let mut seen = [false; 2];
    for _ in 0..60 {
        let t = s.get("/t").text();
        let (id, v) = t.trim_end().split_once(' ').expect("id and value");
        assert_eq!(v, "ok");
        seen[id.parse::<usize>().expect("worker id")] = true;
        if seen == [true, true] {
            break;
        }
    }
    assert_eq!(seen, [true, true], "both workers answered");
}

#[test]
fn phases_where_calls_may_wait() {
    let http = r##"
    init_by_lua_block {
        local tk = require "testkit"
        init_echo = tk.echo("sync works in init")
        local ok, err = pcall(tk.later, 1, "x")
        init_err = err
    }
    init_worker_by_lua_block {
        local tk = require "testkit"
        ngx.log(ngx.WARN, "init_worker got: ", tk.later(5, "waited in init_worker"))
    }
    "##;
    let server = r##"
    location = /t {
        rewrite_by_lua_block { ngx.ctx.r = require("testkit").later(5, "rewrite") }
        access_by_lua_block { ngx.ctx.a = require("testkit").sleep(5, "access") }
        content_by_lua_block {
            ngx.say(init_echo)
            ngx.say(init_err)
            ngx.say(ngx.ctx.r, " ", ngx.ctx.a)
        }
        log_by_lua_block {
            ngx.log(ngx.WARN, "log phase got: ", require("testkit").later(5, "log"))
        }
    }
    "##;
    let s = common::start(BIN, http, server);
    assert_eq!(
        s.get("/t").text(),
        "sync works in init\nAPI disabled in the context of init_by_lua*\nrewrite access\n"
    );
    let log = wait_for_log(&s, "log phase got: log");
    assert!(
        log.contains("init_worker got: waited in init_worker"),
        "{log}"
    );
    assert!(log.contains("log phase got: log"), "{log}");
    assert_clean_log(&s);
}
