//! `lua_blocking_warn_threshold` values (its runtime behaviour is in
//! spec/200-blocking-watchdog.t).

mod support;

use support::TestServer;

fn start(value: &str) -> Result<TestServer, String> {
    let conf = support::conf(
        "",
        &format!("lua_blocking_warn_threshold {value};"),
        "location = /t { return 200 \"ok\\n\"; }",
    );
    TestServer::try_start_with(|_| {}, &conf, &[])
}

#[test]
fn accepts_times_and_off() {
    for v in ["250ms", "1s", "off", "2"] {
        let s = start(v).unwrap_or_else(|e| panic!("{v}: {e}"));
        assert_eq!(s.get("/t").text(), "ok\n");
    }
}

#[test]
fn rejects_bad_values_like_nginx() {
    for v in ["abc", "0", "-5ms", "on"] {
        let err = match start(v) {
            Ok(_) => panic!("{v} was accepted"),
            Err(e) => e,
        };
        assert!(
            err.contains(&format!(
                "invalid value \"{v}\" in \"lua_blocking_warn_threshold\" directive in"
            )),
            "{v}: {err}"
        );
    }
}

#[test]
fn only_in_http() {
    let conf = support::conf(
        "",
        "",
        "location = /t { lua_blocking_warn_threshold 1s; return 200; }",
    );
    let err = match TestServer::try_start_with(|_| {}, &conf, &[]) {
        Ok(_) => panic!("accepted in a location"),
        Err(e) => e,
    };
    assert!(
        err.contains("\"lua_blocking_warn_threshold\" directive is not allowed here in"),
        "{err}"
    );
}
