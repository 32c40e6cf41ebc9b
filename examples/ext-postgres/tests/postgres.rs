//! The `pg` extension end to end against the local PostgreSQL
//! (127.0.0.1:5432, trust authentication, database `test`).

#[path = "../../ext-testkit/tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{get, quantile, stat, wait_for, TestServer};

const BIN: &str = env!("CARGO_BIN_EXE_ext-postgres");

fn server(conninfo: &str, pool_size: usize, extra: &str) -> TestServer {
    let mut locations = common::stats_location(r#"require("pg").stats()"#);
    locations.push_str(&format!(
        r#"
        location /q/ {{
            {extra}
            content_by_lua_block {{
                local pg = require "pg"
                pg.configure {{ conninfo = "{conninfo}", pool_size = {pool_size} }}
                local what = ngx.var.uri:sub(4)
                local rows, err
                if what == "slow" then
                    rows, err = pg.query("select pg_sleep($1)", {{ tonumber(ngx.var.arg_s) }})
                elseif what == "types" then
                    rows, err = pg.query("select $1::int4 as i, $2::int8 as big, $3::text as t, $4::float8 as f, "
                        .. "$5::bool as b, $6::bytea as raw, null::text as nothing, $7::text as absent",
                        {{ 41, 2^40, "héllo", 0.25, true, "a\0b", ngx.null }})
                elseif what == "rows" then
                    rows, err = pg.query("select g as n, g * g as sq from generate_series(1, $1) as g order by g",
                        {{ 3 }})
                elseif what == "syntax" then
                    rows, err = pg.query("selec 1")
                elseif what == "arity" then
                    rows, err = pg.query("select $1::int", {{}})
                elseif what == "badparam" then
                    rows, err = pg.query("select $1::int", {{ "forty-one" }})
                elseif what == "unsupported" then
                    rows, err = pg.query("select now() as ts")
                end
                if not rows then
                    ngx.status = 502
                    ngx.say("error: ", err)
                    return
                end
                for _, r in ipairs(rows) do
                    local keys = {{}}
                    for k in pairs(r) do keys[#keys + 1] = k end
                    table.sort(keys)
                    local out = {{}}
                    for _, k in ipairs(keys) do
                        local v = r[k]
                        out[#out + 1] = k .. "=" .. (v == ngx.null and "NULL" or tostring(v))
                    end
                    ngx.say(table.concat(out, " "))
                end
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

const LOCAL: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";

#[test]
fn worker_keeps_serving_while_200_queries_are_pending() {
    let s = server(LOCAL, 40, "");
    let port = s.port();
    let t0 = Instant::now();
    let slow = common::send_all(port, (0..200).map(|_| "/q/slow?s=0.5".to_string()));
    let st = wait_for(port, "/stats", Duration::from_secs(30), |b| {
        stat(b, "pending") + stat(b, "completed") >= 200
    });
    let before = stat(&st, "pending");
    assert!(before >= 150, "only {before} pending:\n{st}");

    let lat = common::probe(port, "/ping", 100);
    let after = stat(&get(port, "/stats").text(), "pending");
    let (p50, p99, max) = (
        quantile(&lat, 0.5),
        quantile(&lat, 0.99),
        lat[lat.len() - 1],
    );
    println!(
        "postgres: {} probes while {before}..{after} pg_sleep(0.5) queries were pending: p50 {p50:?}, p99 {p99:?}, max {max:?}",
        lat.len()
    );
    assert!(after > 0, "the queries finished before the probes did");
    assert!(p99 < Duration::from_millis(50), "p99 {p99:?}");

    for r in common::read_all(slow) {
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.text(), "pg_sleep=NULL\n");
    }
    // 200 sleeps of 0.5 s over 40 connections: 5 rounds, not 100 s in a row
    let took = t0.elapsed();
    println!("postgres: 200 queries answered in {took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    let st = get(port, "/stats").text();
    assert_eq!(stat(&st, "pending"), 0, "{st}");
    assert_eq!(
        stat(&st, "completed"),
        0,
        "futures are not completions:\n{st}"
    );
    common::assert_clean_log(&s);
}

#[test]
fn values_and_errors() {
    let s = server(LOCAL, 2, "");
    let port = s.port();
    assert_eq!(
        get(port, "/q/types").text(),
        "absent=NULL b=true big=1099511627776 f=0.25 i=41 nothing=NULL raw=a\0b t=héllo\n"
    );
    assert_eq!(
        get(port, "/q/rows").text(),
        "n=1 sq=1\nn=2 sq=4\nn=3 sq=9\n"
    );
    let r = get(port, "/q/syntax");
    assert_eq!(r.status, 502);
    assert_eq!(r.text(), "error: syntax error at or near \"selec\"\n");
    assert_eq!(
        get(port, "/q/arity").text(),
        "error: the query takes 1 parameters, got 0\n"
    );
    assert_eq!(
        get(port, "/q/badparam").text(),
        "error: cannot pass a string as parameter $1 (int4)\n"
    );
    assert_eq!(
        get(port, "/q/unsupported").text(),
        "error: column \"ts\" has unsupported type timestamptz (cast it to text)\n"
    );
    // errors do not break the pooled connections
    assert_eq!(get(port, "/q/rows").status, 200);
}

#[test]
fn unreachable_server_is_nil_err() {
    // nothing listens on port 1
    let s = server(
        "host=127.0.0.1 port=1 user=postgres dbname=test connect_timeout=2",
        1,
        "",
    );
    let r = get(s.port(), "/q/rows");
    assert_eq!(r.status, 502);
    assert!(
        r.text().starts_with("error: error connecting to server"),
        "{}",
        r.text()
    );
    assert_eq!(get(s.port(), "/ping").text(), "pong\n");
}

#[test]
fn query_of_an_aborted_request_is_dropped() {
    let s = server(LOCAL, 1, "lua_check_client_abort on;");
    let port = s.port();
    let c = common::send_all(port, ["/q/slow?s=1".to_string()]);
    wait_for(port, "/stats", Duration::from_secs(10), |b| {
        stat(b, "pending") == 1
    });
    drop(c);
    let st = wait_for(port, "/stats", Duration::from_secs(10), |b| {
        stat(b, "cancelled") == 1
    });
    assert_eq!(stat(&st, "pending"), 0, "{st}");
    assert_eq!(stat(&st, "cancelled"), 1, "{st}");
    // the same (only) connection serves the next query once the server finished the sleep
    assert_eq!(
        get(port, "/q/rows").text(),
        "n=1 sq=1\nn=2 sq=4\nn=3 sq=9\n"
    );
    common::assert_clean_log(&s);
}
