//! ngx.re behaviour that a spec block (run twice in one server) cannot
//! show: the once-per-worker cache warning and the directives' checks.

mod support;

use support::{conf, TestServer};

#[test]
fn cache_full_warning_is_logged_once_per_worker() {
    let c = conf(
        "",
        "lua_regex_cache_max_entries 2;",
        r#"
        location = /t {
            content_by_lua_block {
                local n = 0
                for _, p in ipairs({ "a", "b", "c", "d", "e" }) do
                    if ngx.re.match("abcde", p, "o") then n = n + 1 end
                end
                ngx.say(n)
            }
        }
        "#,
    );
    let s = TestServer::start(&c);
    for _ in 0..3 {
        let r = s.get("/t");
        assert_eq!((r.status, r.text()), (200, "5\n".to_string()));
    }
    let log = s.error_log();
    let warnings: Vec<_> = log
        .lines()
        .filter(|l| l.contains("lua exceeding regex cache max entries (2)"))
        .collect();
    assert_eq!(warnings.len(), 1, "{log}");
    assert!(warnings[0].contains("[warn]"), "{}", warnings[0]);
    assert!(
        warnings[0].contains("request: \"GET /t HTTP/1.1\""),
        "{}",
        warnings[0]
    );
}

#[test]
fn directive_values_and_contexts_are_checked() {
    for (http, server, wanted) in [
        (
            "lua_regex_cache_max_entries many;",
            "",
            "invalid value \"many\" in \"lua_regex_cache_max_entries\" directive",
        ),
        (
            "lua_regex_match_limit -1;",
            "",
            "invalid value \"-1\" in \"lua_regex_match_limit\" directive",
        ),
        (
            "",
            "lua_regex_match_limit 10;",
            "\"lua_regex_match_limit\" directive is not allowed here",
        ),
    ] {
        let c = conf("", http, server);
        let err = match TestServer::try_start_with(|_| {}, &c, &[]) {
            Ok(_) => panic!("started with {http}{server}"),
            Err(e) => e,
        };
        assert!(err.contains(wanted), "{wanted}: {err}");
    }
}
