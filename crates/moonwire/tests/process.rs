//! ngx.process, ngx.worker and ngx.errlog where several workers or
//! `master_process on` matter (the spec runner's config has one worker and
//! `master_process off`): worker pids, signal_graceful_exit, the privileged
//! agent, the process-wide capture ring, and lua_capture_error_log's
//! config errors.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use support::{conf, TestServer};

/// The test template with `workers` workers and `master_process` on or off.
fn conf_with(workers: usize, master: bool, http: &str, server: &str) -> String {
    conf("", http, server)
        .replace(
            "worker_processes 1;",
            &format!("worker_processes {workers};"),
        )
        .replace(
            "master_process off;",
            if master {
                "master_process on;"
            } else {
                "master_process off;"
            },
        )
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(10) {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// Send requests on fresh connections until every worker id has answered:
/// id -> body.
fn from_every_worker(s: &TestServer, path: &str, workers: usize) -> BTreeMap<String, String> {
    let mut seen = BTreeMap::new();
    for _ in 0..500 {
        let body = s.get(path).text();
        let id = body.split_whitespace().next().unwrap_or("").to_string();
        seen.entry(id).or_insert(body);
        if seen.len() == workers {
            return seen;
        }
    }
    panic!("not every worker answered: {seen:?}");
}

#[test]
fn every_worker_has_its_own_pid_and_pids_lists_them_in_id_order() {
    let s = TestServer::start(&conf_with(
        2,
        true,
        "",
        r#"location = /t { content_by_lua_block {
            ngx.say(ngx.worker.id(), " ", ngx.worker.pid(), " ", table.concat(ngx.worker.pids(), ","),
                    " ", require("ngx.process").type(), " ", ngx.worker.count())
        } }"#,
    ));
    let seen = from_every_worker(&s, "/t", 2);
    let rows: Vec<Vec<&str>> = seen
        .values()
        .map(|b| b.split_whitespace().collect())
        .collect();
    let pids = rows[0][2];
    let listed: Vec<&str> = pids.split(',').collect();
    assert_eq!(listed.len(), 2, "{seen:?}");
    assert_ne!(listed[0], listed[1]);
    for r in &rows {
        assert_eq!(r[2], pids, "every worker lists the same pids: {seen:?}");
        assert_eq!(r[3], "worker");
        assert_eq!(r[4], "2");
        let id: usize = r[0].parse().unwrap();
        assert_eq!(
            listed[id], r[1],
            "pids[{id}] is worker {id}'s pid: {seen:?}"
        );
        assert_ne!(
            r[1],
            s.pid().to_string(),
            "a worker's pid is not the process id"
        );
    }
}

#[test]
fn the_capture_ring_is_shared_by_the_workers() {
    let s = TestServer::start(&conf_with(
        2,
        true,
        "lua_capture_error_log 64k;",
        r#"location = /log { content_by_lua_block {
            ngx.log(ngx.ERR, "logged by worker ", ngx.worker.id())
            ngx.say(ngx.worker.id())
        } }
        location = /read { content_by_lua_block {
            local res = require("ngx.errlog").get_logs(1000)
            local ids = {}
            for i = 3, #res, 3 do
                local id = res[i]:match("logged by worker (%d)")
                if id then ids[id] = true end
            end
            ngx.say(ngx.worker.id(), " ", ids["0"] and "0" or "-", ids["1"] and "1" or "-")
        } }"#,
    ));
    from_every_worker(&s, "/log", 2);
    let body = s.get("/read").text();
    assert!(
        body.ends_with(" 01\n"),
        "one worker reads both workers' lines: {body}"
    );
    let again = s.get("/read").text();
    assert!(again.ends_with(" --\n"), "get_logs consumed them: {again}");
}

#[test]
fn signal_graceful_exit_replaces_the_worker_with_a_fresh_one() {
    let mut s = TestServer::start_with(
        |p| std::fs::write(p.join("html/state.lua"), "return { n = 0 }\n").unwrap(),
        &conf_with(
            1,
            true,
            r#"lua_package_path "$prefix/html/?.lua;;";"#,
            r#"location = /count { content_by_lua_block {
                local state = require "state"
                state.n = state.n + 1
                ngx.say(state.n, " ", ngx.worker.pid())
            } }
            location = /exit { content_by_lua_block {
                require("ngx.process").signal_graceful_exit()
                ngx.say("bye")
            } }"#,
        ),
    );
    let first = s.get("/count").text();
    let second = s.get("/count").text();
    let old_pid = first.split_whitespace().nth(1).unwrap().to_string();
    assert_eq!(second, format!("2 {old_pid}\n"));
    assert_eq!(s.get("/exit").text(), "bye\n");
    // the replacement has a new VM (module state starts over) on a new thread
    let mut fresh = String::new();
    wait_for("a fresh worker", || {
        fresh = s.get("/count").text();
        fresh.starts_with("1 ")
    });
    assert!(!fresh.contains(&old_pid), "{fresh}");
    assert!(s.get("/count").text().starts_with("2 "));
    assert!(s.is_running());
    let log = s.error_log();
    assert!(
        !log.contains("[alert]") && !log.contains("[emerg]"),
        "{log}"
    );
}

#[test]
fn signal_graceful_exit_with_master_process_off_ends_the_server() {
    let mut s = TestServer::start(&conf_with(
        1,
        false,
        "",
        r#"location = /exit { content_by_lua_block {
            require("ngx.process").signal_graceful_exit()
            ngx.say("bye")
        } }"#,
    ));
    assert_eq!(s.get("/exit").text(), "bye\n");
    let st = s
        .wait_exit(Duration::from_secs(10))
        .expect("the server exits");
    assert!(st.success(), "{st}");
    let log = s.error_log();
    assert!(log.contains("signal 3 (SIGQUIT) received"), "{log}");
}

#[test]
fn privileged_agent_runs_init_worker_and_timers_but_takes_no_connections() {
    let s = TestServer::start(&conf_with(
        2,
        true,
        r#"init_by_lua_block {
            assert(require("ngx.process").enable_privileged_agent(100))
        }
        init_worker_by_lua_block {
            local process = require "ngx.process"
            if process.type() == "privileged agent" then
                ngx.log(ngx.WARN, "agent up: id=", tostring(ngx.worker.id()), " count=",
                        ngx.worker.count(), " pid=", ngx.worker.pid())
                ngx.timer.every(0.05, function() ngx.log(ngx.WARN, "agent tick") end)
            end
        }"#,
        r#"location = /t { content_by_lua_block {
            ngx.say(ngx.worker.id(), " ", require("ngx.process").type(), " ",
                    table.concat(ngx.worker.pids(), ","))
        } }"#,
    ));
    let seen = from_every_worker(&s, "/t", 2);
    for _ in 0..50 {
        assert!(s.get("/t").text().contains(" worker "));
    }
    wait_for("the agent's timer", || s.error_log().contains("agent tick"));
    let log = s.error_log();
    let up = log
        .lines()
        .find_map(|l| l.split("agent up: ").nth(1))
        .expect("the agent ran init_worker_by_lua");
    assert!(up.starts_with("id=nil count=2 pid="), "{up}");
    let agent_pid = up.rsplit('=').next().unwrap();
    for body in seen.values() {
        let pids = body.split_whitespace().nth(2).unwrap();
        assert_eq!(pids.split(',').count(), 2, "{body}");
        assert!(!pids.split(',').any(|p| p == agent_pid), "{body}");
    }
}

#[test]
fn lua_capture_error_log_config_errors() {
    let start = |http: &str, server: &str| {
        TestServer::try_start_with(|_| {}, &conf_with(1, false, http, server), &[])
    };
    let cases = [
        (
            "lua_capture_error_log 3k;",
            "",
            "invalid capture error log size \"3k\", minimum size is 4096 in ",
        ),
        (
            "lua_capture_error_log lots;",
            "",
            "invalid capture error log size \"lots\", minimum size is 4096 in ",
        ),
        (
            "lua_capture_error_log 4k; lua_capture_error_log 8k;",
            "",
            "\"lua_capture_error_log\" directive is duplicate in ",
        ),
        (
            "",
            "lua_capture_error_log 4k;",
            "\"lua_capture_error_log\" directive is not allowed here in ",
        ),
        (
            "lua_capture_error_log;",
            "",
            "invalid number of arguments in \"lua_capture_error_log\" directive in ",
        ),
    ];
    for (http, server, msg) in cases {
        match start(http, server) {
            Ok(_) => panic!("{http}{server}: the server started"),
            Err(e) => assert!(e.contains(msg), "{http}{server}: {e}"),
        }
    }
    let s =
        start("lua_capture_error_log 4k;", "location = /t { return 204; }").expect("4k is enough");
    assert_eq!(s.get("/t").status, 204);
}
