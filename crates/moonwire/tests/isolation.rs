//! Per-request global environments (the default) against OpenResty's shared
//! `_G` (`lua_request_globals shared`), with requests overlapping in ngx.sleep.

mod support;

use std::thread;
use std::time::Duration;

use support::{conf, get, TestServer};

const LOCATIONS: &str = r#"
location = /set {
    content_by_lua_block {
        foo = ngx.var.arg_v
        ngx.sleep(0.3)
        ngx.say(foo)
    }
}
location = /get {
    content_by_lua_block {
        ngx.say(tostring(foo), " ", tostring(rawget(_G, "foo")))
    }
}
location = /load {
    content_by_lua_block {
        local m = require "setsglobal"
        ngx.say(m.name, " ", tostring(MODULE_GLOBAL))
    }
}
location = /after {
    content_by_lua_block {
        ngx.say(tostring(MODULE_GLOBAL), " ", require("setsglobal").hello())
    }
}
"#;

const MODULE: &str = r#"
-- a library that sets a global while loading, as Debian's lpeg does
MODULE_GLOBAL = "loaded"
local _M = { name = "setsglobal" }
function _M.hello() return "hi from " .. MODULE_GLOBAL end
return _M
"#;

fn start(http_extra: &str) -> TestServer {
    let http = format!("lua_package_path \"$prefix/lua/?.lua;;\";\n{http_extra}");
    TestServer::start_with(
        |prefix| {
            std::fs::create_dir_all(prefix.join("lua")).unwrap();
            std::fs::write(prefix.join("lua/setsglobal.lua"), MODULE).unwrap();
        },
        &conf("", &http, LOCATIONS),
    )
}

/// Two requests suspended at the same time write the same global name.
fn overlap(port: u16) -> (String, String) {
    let a = thread::spawn(move || get(port, "/set?v=a"));
    thread::sleep(Duration::from_millis(100));
    let b = thread::spawn(move || get(port, "/set?v=b"));
    let (a, b) = (a.join().unwrap(), b.join().unwrap());
    assert_eq!(a.status, 200);
    assert_eq!(b.status, 200);
    (
        String::from_utf8(a.body).unwrap(),
        String::from_utf8(b.body).unwrap(),
    )
}

#[test]
fn isolated_globals_do_not_leak_between_requests() {
    let s = start("");
    let (a, b) = overlap(s.port());
    assert_eq!(a, "a\n", "request a saw another request's global");
    assert_eq!(b, "b\n");
    // after both ended the shared globals are unchanged
    assert_eq!(get(s.port(), "/get").body, b"nil nil\n");
    assert!(!s.error_log().contains("writing a global Lua variable"));
}

#[test]
fn shared_globals_behave_like_openresty() {
    let s = start("lua_request_globals shared;");
    let (a, b) = overlap(s.port());
    // one _G: the later write wins for both, and it outlives the requests
    assert_eq!(a, "b\n");
    assert_eq!(b, "b\n");
    assert_eq!(get(s.port(), "/get").body, b"b b\n");
    assert!(s
        .error_log()
        .contains("writing a global Lua variable ('foo') which may lead to race conditions"));
}

#[test]
fn globals_set_by_a_module_loaded_in_a_request_survive_it() {
    let s = start("");
    assert_eq!(get(s.port(), "/load").body, b"setsglobal loaded\n");
    assert_eq!(get(s.port(), "/after").body, b"loaded hi from loaded\n");
}
