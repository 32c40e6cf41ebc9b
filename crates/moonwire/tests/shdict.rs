//! Shared dicts end to end: one dict shared by every worker thread (exact
//! `incr` totals under load), dicts across a reload (same name and size
//! kept, a new size starts empty), and `lua_shared_dict` config errors.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use support::{conf, get, moonwire_bin, Client, TestServer};

const CLIENTS: usize = 16;
const PER_CLIENT: usize = 250;

#[test]
fn incr_from_every_worker_counts_exactly() {
    let locs = r#"
location = /hit {
    content_by_lua_block {
        local d = ngx.shared.counters
        local n, err = d:incr("hits", 1, 0)
        if not n then ngx.status = 500 ngx.say(err) return end
        d:incr("worker:" .. ngx.worker.id(), 1, 0)
        ngx.say(n)
    }
}
location = /total {
    content_by_lua_block {
        local d = ngx.shared.counters
        local by_worker = {}
        for i = 0, ngx.worker.count() - 1 do
            by_worker[#by_worker + 1] = d:get("worker:" .. i) or 0
        end
        ngx.say(d:get("hits"), " ", table.concat(by_worker, " "))
    }
}
"#;
    let text = conf("", "lua_shared_dict counters 1m;", locs)
        .replace("worker_processes 1;", "worker_processes 2;");
    let s = TestServer::start(&text);
    let port = s.port();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|_| {
            thread::spawn(move || {
                let mut c = Client::connect(port).expect("connect");
                let mut seen = Vec::with_capacity(PER_CLIENT);
                for _ in 0..PER_CLIENT {
                    let r = c.get("/hit").expect("request");
                    assert_eq!(r.status, 200, "{}", r.text());
                    seen.push(r.text().trim().parse::<u64>().expect("a count"));
                }
                seen
            })
        })
        .collect();
    let mut all: Vec<u64> = Vec::new();
    for c in clients {
        all.extend(c.join().expect("client thread"));
    }
    let total = (CLIENTS * PER_CLIENT) as u64;
    // every incr returned a distinct value: none was lost or applied twice
    all.sort_unstable();
    assert_eq!(all, (1..=total).collect::<Vec<_>>());
    let r = get(port, "/total").text();
    let mut parts = r.split_whitespace().map(|p| p.parse::<u64>().unwrap());
    assert_eq!(parts.next(), Some(total), "{r}");
    let per_worker: Vec<u64> = parts.collect();
    assert_eq!(per_worker.len(), 2, "{r}");
    assert_eq!(per_worker.iter().sum::<u64>(), total, "{r}");
    assert!(
        per_worker.iter().all(|&n| n > 0),
        "both workers must have served requests: {r}"
    );
}

fn dicts_conf(cats_size: &str, marker: &str) -> String {
    let locs = format!(
        r#"
location = /set {{
    content_by_lua_block {{
        ngx.shared.dogs:set("k", "dog value")
        ngx.shared.cats:set("k", "cat value")
        ngx.shared.dogs:incr("n", 1, 0)
        ngx.say("ok")
    }}
}}
location = /get {{
    content_by_lua_block {{
        local dogs, cats = ngx.shared.dogs, ngx.shared.cats
        ngx.say("{marker} ", dogs:get("k"), " ", cats:get("k"), " ", cats:capacity(), " ", dogs:get("n"))
    }}
}}
"#
    );
    conf(
        "",
        &format!("lua_shared_dict dogs 1m;\nlua_shared_dict cats {cats_size};"),
        &locs,
    )
    .replace("worker_processes 1;", "worker_processes 2;")
}

fn reload(s: &TestServer, text: &str, marker: &str) {
    let port = s.port();
    std::fs::write(
        s.prefix().join("conf/nginx.conf"),
        text.replace("127.0.0.1:0", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    s.signal(libc::SIGHUP);
    let t = Instant::now();
    while !get(port, "/get").text().starts_with(marker) {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the reload did not take effect:\n{}",
            s.error_log()
        );
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn reload_keeps_dicts_of_the_same_size_and_empties_resized_ones() {
    let s = TestServer::start(&dicts_conf("1m", "gen1"));
    let port = s.port();
    assert_eq!(get(port, "/set").text(), "ok\n");
    assert_eq!(
        get(port, "/get").text(),
        "gen1 dog value cat value 1048576 1\n"
    );
    // same config again: both dicts keep their contents
    reload(&s, &dicts_conf("1m", "gen2"), "gen2");
    assert_eq!(
        get(port, "/get").text(),
        "gen2 dog value cat value 1048576 1\n"
    );
    // cats changes size: a new, empty zone (as nginx creates); dogs is kept
    reload(&s, &dicts_conf("2m", "gen3"), "gen3");
    assert_eq!(get(port, "/get").text(), "gen3 dog value nil 2097152 1\n");
    assert_eq!(get(port, "/set").text(), "ok\n");
    assert_eq!(
        get(port, "/get").text(),
        "gen3 dog value cat value 2097152 2\n"
    );
}

/// `moonwire -t` on an http block with `http`; the `[emerg]` line's message.
fn test_http(http: &str) -> (String, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let conf_dir = dir.path().join("conf");
    std::fs::create_dir_all(&conf_dir).unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    let path = conf_dir.join("nginx.conf");
    std::fs::write(&path, format!("events {{\n}}\nhttp {{\n{http}\n}}\n")).unwrap();
    let out = Command::new(moonwire_bin())
        .args(["-p", &format!("{}/", dir.path().display())])
        .args(["-c", "conf/nginx.conf", "-t"])
        .stdin(Stdio::null())
        .env_remove("MOONWIRE_PORTS_FILE")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code();
    let emerg = stderr
        .lines()
        .find_map(|l| l.strip_prefix("nginx: [emerg] "))
        .map(str::to_string);
    match emerg {
        Some(e) => {
            assert_eq!(code, Some(1), "{stderr}");
            (e, path)
        }
        None => {
            assert_eq!(code, Some(0), "{stderr}");
            (String::new(), path)
        }
    }
}

fn at(p: &Path, line: usize) -> String {
    format!("{}:{line}", p.display())
}

#[test]
fn config_errors_read_as_openresty_words_them() {
    let cases: &[(&str, &str)] = &[
        (
            "lua_shared_dict dogs 1m;\nlua_shared_dict dogs 1m;",
            "lua_shared_dict \"dogs\" is already defined as \"dogs\"",
        ),
        (
            "lua_shared_dict dogs 1m;\nlua_shared_dict dogs 2m;",
            "the size 2097152 of shared memory zone \"dogs\" conflicts with already declared size 1048576",
        ),
        ("lua_shared_dict dogs 8191;", "invalid lua shared dict size \"8191\""),
        ("lua_shared_dict dogs 1g;", "invalid lua shared dict size \"1g\""),
        ("lua_shared_dict dogs 1.5m;", "invalid lua shared dict size \"1.5m\""),
        ("lua_shared_dict dogs -1;", "invalid lua shared dict size \"-1\""),
        ("lua_shared_dict \"\" 1m;", "invalid lua shared dict name \"\""),
        (
            "lua_shared_dict dogs;",
            "invalid number of arguments in \"lua_shared_dict\" directive",
        ),
        (
            "server { lua_shared_dict dogs 1m; }",
            "\"lua_shared_dict\" directive is not allowed here",
        ),
    ];
    for (http, want) in cases {
        let (got, path) = test_http(http);
        let line = if http.contains('\n') { 5 } else { 4 };
        assert_eq!(got, format!("{want} in {}", at(&path, line)), "{http}");
    }
    for ok in [
        "lua_shared_dict dogs 8192;",
        "lua_shared_dict dogs 12K;",
        "lua_shared_dict dogs 1M;",
    ] {
        assert_eq!(test_http(ok).0, "", "{ok}");
    }
}
