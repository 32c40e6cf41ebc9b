//! The `hash` extension end to end: Argon2id on the extension's own thread
//! pool, results through completion handles fired by its callback.

#[path = "../../ext-testkit/tests/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{get, quantile, stat, wait_for, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_ext-hash");

/// Each hash costs about 10 ms of one core in a debug build.
const COST: &str = "{ m_cost = 512, t_cost = 1 }";

fn server(extra: &str) -> TestServer {
    let mut locations = common::stats_location(r#"require("hash").stats()"#);
    locations.push_str(&format!(
        r#"
        location = /hash {{
            {extra}
            content_by_lua_block {{
                local hash = require "hash"
                local phc, err = hash.hash(ngx.var.arg_pw, {COST})
                if not phc then
                    ngx.status = 500
                end
                ngx.say(phc or err)
            }}
        }}
        location = /verify {{
            content_by_lua_block {{
                local hash = require "hash"
                local ok, err = hash.verify(ngx.var.arg_pw, ngx.unescape_uri(ngx.var.arg_phc))
                if ok == nil then
                    ngx.status = 400
                    ngx.say(err)
                    return
                end
                ngx.say(ok and "match" or "no match")
            }}
        }}
        location = /misuse {{
            content_by_lua_block {{
                local hash = require "hash"
                local function try(...)
                    local ok, err = pcall(...)
                    ngx.say((string.gsub(err, "^.-:%d+: ", "")))
                end
                try(function() hash.hash() end)
                try(function() hash.hash("pw", {{ m_cost = "lots" }}) end)
                try(function() hash.hash("pw", {{ m_cost = 1 }}) end)
                try(function() hash.hash("pw", 5) end)
            }}
        }}
        location = /slowhash {{
            {extra}
            content_by_lua_block {{
                -- about 0.3 s of one core in a debug build
                local phc, err = require("hash").hash("pw", {{ m_cost = 16384, t_cost = 1 }})
                ngx.say(phc or err)
            }}
        }}
        location = /ping {{
            content_by_lua_block {{
                ngx.say("pong")
            }}
        }}
"#
    ));
    common::start(BIN, "", &locations)
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn worker_keeps_serving_while_200_hashes_are_pending() {
    let s = server("");
    let port = s.port();
    let slow = common::send_all(port, (0..200).map(|i| format!("/hash?pw=secret{i}")));
    // every call has reached the pool; most still wait for a hash thread
    let st = wait_for(port, "/stats", Duration::from_secs(30), |b| {
        stat(b, "pending") + stat(b, "completed") >= 200
    });
    let before = stat(&st, "pending");
    assert!(before >= 100, "only {before} pending:\n{st}");

    let lat = common::probe(port, "/ping", 100);
    let after = stat(&get(port, "/stats").text(), "pending");
    let (p50, p99, max) = (
        quantile(&lat, 0.5),
        quantile(&lat, 0.99),
        lat[lat.len() - 1],
    );
    println!(
        "hash: {} probes while {before}..{after} hashes were pending: p50 {p50:?}, p99 {p99:?}, max {max:?}",
        lat.len()
    );
    assert!(after > 0, "the hashes finished before the probes did");
    assert!(p99 < Duration::from_millis(50), "p99 {p99:?}");

    let answers = common::read_all(slow);
    for (i, r) in answers.iter().enumerate() {
        assert_eq!(r.status, 200, "hash {i}: {}", r.text());
        assert!(
            r.text().starts_with("$argon2id$v=19$m=512,t=1,p=1$"),
            "{}",
            r.text()
        );
    }
    let phc = answers[7].text().trim_end().to_string();
    let verify =
        |pw: &str, phc: &str| get(port, &format!("/verify?pw={pw}&phc={}", urlencode(phc)));
    assert_eq!(verify("secret7", &phc).text(), "match\n");
    assert_eq!(verify("secret8", &phc).text(), "no match\n");
    let r = verify("secret7", "not a hash");
    assert_eq!(r.status, 400);
    assert!(r.text().starts_with("invalid hash: "), "{}", r.text());

    let st = get(port, "/stats").text();
    assert_eq!(stat(&st, "pending"), 0, "{st}");
    assert_eq!(stat(&st, "completed"), 203, "{st}");
    assert_eq!(stat(&st, "queued"), 0, "{st}");
    assert_eq!(stat(&st, "hashed"), 203, "{st}");
    common::assert_clean_log(&s);
}

#[test]
fn hash_finished_after_the_client_left_is_discarded() {
    let s = server("lua_check_client_abort on;");
    let port = s.port();
    let clients = common::send_all(port, (0..5).map(|_| "/slowhash".to_string()));
    wait_for(port, "/stats", Duration::from_secs(10), |b| {
        stat(b, "pending") >= 5
    });
    drop(clients);
    // every request ended (499) before its hash; the pool still calls back later
    let st = wait_for(port, "/stats", Duration::from_secs(30), |b| {
        stat(b, "late") + stat(b, "completed") >= 5 && stat(b, "queued") == 0
    });
    assert_eq!(stat(&st, "pending"), 0, "{st}");
    assert_eq!(stat(&st, "cancelled"), 5, "{st}");
    assert_eq!(stat(&st, "late"), 5, "{st}");
    assert_eq!(stat(&st, "completed"), 0, "{st}");
    assert_eq!(get(port, "/ping").text(), "pong\n");
    common::assert_clean_log(&s);
}

#[test]
fn misuse_raises_lua_errors() {
    let s = server("");
    assert_eq!(
        s.get("/misuse").text(),
        "bad argument #1 to 'hash' (string expected, got no value)\n\
         bad argument #2 to 'hash' (bad \"m_cost\" option)\n\
         bad argument #2 to 'hash' (memory cost is too small)\n\
         bad argument #2 to 'hash' (table expected, got number)\n"
    );
}
