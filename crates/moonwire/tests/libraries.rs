//! Real OpenResty libraries, as Debian packages them, unmodified, end to end
//! through the server: lua-resty-redis against redis-server on 6379,
//! lua-resty-memcached against memcached on 11211, lua-resty-dns against a
//! dnsmasq started here, lua-resty-lrucache, lua-resty-string (sha1,
//! sha256, sha512, md5, random, to_hex through FFI into OpenSSL and nginx's
//! own `ngx_hex_dump`).
//!
//! Debian installs most of them under `nginx.*` (`nginx.redis`,
//! `nginx.memcached`, `nginx.dns.resolver`, `nginx.sha256` ...) while code
//! written for OpenResty says `require "resty.redis"`; the tests put
//! one-line shims (`return require "nginx.redis"`) under `PREFIX/lua/resty/`
//! so the libraries run exactly as applications load them.
//!
//! Needs redis-server on 127.0.0.1:6379 (test.sh starts it), memcached on
//! 127.0.0.1:11211 (started here when not running, and stopped again) and
//! /usr/sbin/dnsmasq (Debian package dnsmasq-base).
//!
//! With `SPEC_NGINX=/usr/sbin/nginx` (as for the spec files) the same
//! configs run against that nginx + lua-nginx-module instead, to confirm the
//! expectations are OpenResty's.

mod support;

use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use support::mock_peer::{free_udp_port, line_command, tcp_port_open};
use support::{conf, get, TestServer};

const REDIS_PORT: u16 = 6379;
const MEMCACHED_PORT: u16 = 11211;

/// `resty.*` name → Debian's module.
const SHIMS: &[(&str, &str)] = &[
    ("resty/redis.lua", "nginx.redis"),
    ("resty/memcached.lua", "nginx.memcached"),
    ("resty/dns/resolver.lua", "nginx.dns.resolver"),
    ("resty/sha1.lua", "nginx.sha1"),
    ("resty/sha256.lua", "nginx.sha256"),
    ("resty/sha512.lua", "nginx.sha512"),
    ("resty/md5.lua", "nginx.md5"),
    ("resty/random.lua", "nginx.random"),
    ("resty/string.lua", "nginx.string"),
];

fn reference_nginx() -> Option<String> {
    std::env::var("SPEC_NGINX").ok().filter(|s| !s.is_empty())
}

/// A unique prefix for the keys and channels a test uses, so that parallel
/// runs (moonwire and the reference, or two checkouts) do not collide.
fn key(name: &str) -> String {
    format!("moonwire-test:{}:{name}", std::process::id())
}

/// Start the server under test (or the reference nginx) with the shims,
/// `lua_package_path` pointing at them and at Debian's Lua tree.
fn start(http: &str, server: &str) -> TestServer {
    let reference = reference_nginx();
    let mut main = String::new();
    if reference.is_some() {
        main.push_str(
            "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n\
             load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n",
        );
    }
    let http =
        format!("lua_package_path \"$prefix/lua/?.lua;/usr/share/lua/5.1/?.lua;;\";\n{http}");
    let text = conf(&main, &http, server);
    let setup = |prefix: &Path| {
        for (path, module) in SHIMS {
            let p = prefix.join("lua").join(path);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, format!("return require \"{module}\"\n")).unwrap();
        }
    };
    let bin = reference
        .clone()
        .unwrap_or_else(|| support::moonwire_bin().to_string());
    TestServer::try_start_bin(&bin, reference.is_some(), setup, &text, &[])
        .unwrap_or_else(|e| panic!("{e}"))
}

fn body(s: &TestServer, path: &str) -> String {
    let raw = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    let r = support::try_request(s.port(), raw.as_bytes())
        .unwrap_or_else(|e| panic!("GET {path}: {e}\n--- error log:\n{}", s.error_log()));
    let text = r.text();
    assert_eq!(
        r.status,
        200,
        "GET {path}: status {}\n{text}\n--- error log:\n{}",
        r.status,
        s.error_log()
    );
    text
}

fn require_redis() {
    assert!(
        tcp_port_open(REDIS_PORT),
        "redis-server is not answering on 127.0.0.1:{REDIS_PORT} (test.sh starts it: \
         redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\" --appendonly no)"
    );
}

// ---------------------------------------------------------------------------
// lua-resty-redis
// ---------------------------------------------------------------------------

const REDIS_LOCATIONS: &str = r#"
location = /basic {
    content_by_lua_block {
        local redis = require "resty.redis"
        local red = redis:new()
        red:set_timeouts(1000, 1000, 1000)
        local ok, err = red:connect("127.0.0.1", 6379)
        if not ok then
            ngx.say("failed to connect: ", err)
            return
        end
        local k = ngx.var.arg_key
        ngx.say("set: ", red:set(k, "hello, redis"))
        ngx.say("get: ", red:get(k))
        ngx.say("missing is ngx.null: ", red:get(k .. ":missing") == ngx.null)
        ngx.say("del: ", red:del(k .. ":n"))
        ngx.say("incr: ", red:incr(k .. ":n"))
        ngx.say("incrby: ", red:incrby(k .. ":n", 41))
        ngx.say("hmset: ", red:hmset(k .. ":h", "a", "1", "b", "2"))
        local h = red:hgetall(k .. ":h")
        ngx.say("hgetall: ", table.concat(h, ","))
        local res, err = red:lpush(k .. ":nokey-type", "x")
        local bad, err = red:get(k .. ":nokey-type")
        ngx.say("wrong type: ", bad, " ", err)
        ngx.say("del all: ", red:del(k, k .. ":n", k .. ":h", k .. ":nokey-type"))
        ngx.say("close: ", red:close())
    }
}

location = /pipeline {
    content_by_lua_block {
        local redis = require "resty.redis"
        local red = redis:new()
        red:set_timeout(1000)
        assert(red:connect("127.0.0.1", 6379))
        local k = ngx.var.arg_key
        red:init_pipeline()
        red:set(k .. ":a", "1")
        red:set(k .. ":b", "2")
        red:get(k .. ":a")
        red:get(k .. ":b")
        red:incr(k .. ":a")
        red:get(k .. ":none")
        red:del(k .. ":a", k .. ":b")
        local results, err = red:commit_pipeline()
        if not results then
            ngx.say("failed to commit: ", err)
            return
        end
        for i, res in ipairs(results) do
            if res == ngx.null then
                ngx.say(i, ": null")
            elseif type(res) == "table" then
                ngx.say(i, ": error ", res[2])
            else
                ngx.say(i, ": ", res)
            end
        end
        ngx.say("count: ", #results)
        assert(red:set_keepalive(10000, 10))
    }
}

location = /sub {
    content_by_lua_block {
        local redis = require "resty.redis"
        local red = redis:new()
        red:set_timeout(5000)
        assert(red:connect("127.0.0.1", 6379))
        local ch = ngx.var.arg_ch
        local res, err = red:subscribe(ch)
        if not res then
            ngx.say("failed to subscribe: ", err)
            return
        end
        ngx.say("subscribe: ", table.concat(res, " "))
        res, err = red:read_reply()
        if not res then
            ngx.say("failed to read: ", err)
            return
        end
        ngx.say("message: ", table.concat(res, " "))
        res, err = red:unsubscribe(ch)
        ngx.say("unsubscribe: ", table.concat(res, " "))
        red:close()
    }
}

location = /pub {
    content_by_lua_block {
        local redis = require "resty.redis"
        local red = redis:new()
        red:set_timeout(1000)
        assert(red:connect("127.0.0.1", 6379))
        ngx.say("receivers: ", red:publish(ngx.var.arg_ch, ngx.var.arg_msg))
        assert(red:set_keepalive(10000, 10))
    }
}

location = /reuse {
    content_by_lua_block {
        local redis = require "resty.redis"
        local k = ngx.var.arg_key
        local seen = {}
        for i = 1, 3 do
            local red = redis:new()
            red:set_timeout(1000)
            assert(red:connect("127.0.0.1", 6379))
            seen[i] = red:get_reused_times()
            assert(red:set(k, i))
            local ok, err = red:set_keepalive(10000, 10)
            if not ok then
                ngx.say("failed to set keepalive: ", err)
                return
            end
        end
        ngx.say("first connect reused: ", seen[1] >= 0)
        ngx.say("second connect reused: ", seen[2] > 0)
        ngx.say("third connect reused more: ", seen[3] > seen[2])
        local red = redis:new()
        assert(red:connect("127.0.0.1", 6379))
        ngx.say("value: ", red:get(k))
        red:del(k)
        ngx.say("later request reuses: ", red:get_reused_times() > 0)
        red:set_keepalive(10000, 10)
    }
}
"#;

#[test]
fn redis_get_set_and_errors() {
    require_redis();
    let s = start("", REDIS_LOCATIONS);
    let k = key("basic");
    assert_eq!(
        body(&s, &format!("/basic?key={k}")),
        "set: OK\n\
         get: hello, redis\n\
         missing is ngx.null: true\n\
         del: 0\n\
         incr: 1\n\
         incrby: 42\n\
         hmset: OK\n\
         hgetall: a,1,b,2\n\
         wrong type: false WRONGTYPE Operation against a key holding the wrong kind of value\n\
         del all: 4\n\
         close: 1\n"
    );
}

#[test]
fn redis_pipeline() {
    require_redis();
    let s = start("", REDIS_LOCATIONS);
    let k = key("pipeline");
    let want = "1: OK\n2: OK\n3: 1\n4: 2\n5: 2\n6: null\n7: 2\ncount: 7\n";
    // twice: the second time over the pooled connection
    assert_eq!(body(&s, &format!("/pipeline?key={k}")), want);
    assert_eq!(body(&s, &format!("/pipeline?key={k}")), want);
}

#[test]
fn redis_pubsub_across_two_requests() {
    require_redis();
    let s = start("", REDIS_LOCATIONS);
    let ch = key("channel");
    let port = s.port();
    let sub_path = format!("/sub?ch={ch}");
    let subscriber = thread::spawn(move || get(port, &sub_path));
    // wait until the subscription is in place
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let out = line_command(
            REDIS_PORT,
            &format!("PUBSUB NUMSUB {ch}\r\n"),
            Duration::from_millis(300),
        )
        .unwrap();
        let text = String::from_utf8_lossy(&out);
        if text.trim_end().ends_with(":1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the subscriber request did not subscribe: {text:?}\n--- error log:\n{}",
            s.error_log()
        );
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        body(&s, &format!("/pub?ch={ch}&msg=hello")),
        "receivers: 1\n"
    );
    let r = subscriber.join().unwrap();
    assert_eq!(r.status, 200, "{}", s.error_log());
    assert_eq!(
        r.text(),
        format!("subscribe: subscribe {ch} 1\nmessage: message {ch} hello\nunsubscribe: unsubscribe {ch} 0\n")
    );
}

#[test]
fn redis_connection_reuse() {
    require_redis();
    let s = start("", REDIS_LOCATIONS);
    let k = key("reuse");
    let want = "first connect reused: true\n\
                second connect reused: true\n\
                third connect reused more: true\n\
                value: 3\n\
                later request reuses: true\n";
    assert_eq!(body(&s, &format!("/reuse?key={k}")), want);
    assert_eq!(body(&s, &format!("/reuse?key={k}")), want);
}

#[test]
fn redis_through_the_resolver_directive() {
    require_redis();
    let dns = Dnsmasq::start(&[("127.0.0.1", "redis.moonwire.test")]);
    let s = start(
        "",
        &format!(
            r#"
resolver 127.0.0.1:{} ipv6=off;
resolver_timeout 2s;
location = /t {{
    content_by_lua_block {{
        local redis = require "resty.redis"
        local red = redis:new()
        red:set_timeout(2000)
        local ok, err = red:connect("redis.moonwire.test", 6379)
        ngx.say("connect: ", ok, " ", err)
        ngx.say("ping: ", red:ping())
        red:close()
        red = redis:new()
        ok, err = red:connect("unknown.moonwire.test", 6379)
        ngx.say("unknown: ", ok, " ", err)
    }}
}}
"#,
            dns.port
        ),
    );
    assert_eq!(
        body(&s, "/t"),
        "connect: 1 nil\nping: PONG\nunknown: nil unknown.moonwire.test could not be resolved (3: Host not found)\n"
    );
}

// ---------------------------------------------------------------------------
// lua-resty-memcached
// ---------------------------------------------------------------------------

/// memcached on 11211: the one already running, or one started here (and
/// stopped, by its pid, when dropped).
struct Memcached {
    started_pid: Option<i32>,
    _dir: Option<tempfile::TempDir>,
}

impl Memcached {
    fn ensure() -> Memcached {
        if tcp_port_open(MEMCACHED_PORT) {
            return Memcached {
                started_pid: None,
                _dir: None,
            };
        }
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("memcached.pid");
        let mut cmd = Command::new("memcached");
        cmd.args(["-l", "127.0.0.1", "-p", "11211", "-U", "0", "-d", "-P"])
            .arg(&pid_file);
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            cmd.args(["-u", "root"]);
        }
        let st = cmd
            .stdin(Stdio::null())
            .status()
            .expect("run memcached (Debian package memcached)");
        assert!(st.success(), "memcached failed to start: {st}");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !tcp_port_open(MEMCACHED_PORT) {
            assert!(Instant::now() < deadline, "memcached did not come up");
            thread::sleep(Duration::from_millis(20));
        }
        // memcached writes its pid file a little after it starts listening
        let mut pid = None;
        while pid.is_none() && Instant::now() < deadline + Duration::from_secs(2) {
            pid = fs::read_to_string(&pid_file)
                .ok()
                .and_then(|s| s.trim().parse().ok());
            if pid.is_none() {
                thread::sleep(Duration::from_millis(10));
            }
        }
        assert!(pid.is_some(), "memcached wrote no pid file");
        Memcached {
            started_pid: pid,
            _dir: Some(dir),
        }
    }
}

impl Drop for Memcached {
    fn drop(&mut self) {
        if let Some(pid) = self.started_pid {
            // SAFETY: kill(2) on the pid of the memcached we started.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
}

#[test]
fn memcached_commands_and_reuse() {
    let _m = Memcached::ensure();
    let s = start(
        "",
        r#"
location = /t {
    content_by_lua_block {
        local memcached = require "resty.memcached"
        local k = ngx.var.arg_key
        local memc, err = memcached:new()
        memc:set_timeout(1000)
        local ok, err = memc:connect("127.0.0.1", 11211)
        if not ok then
            ngx.say("failed to connect: ", err)
            return
        end
        ngx.say("reused: ", memc:get_reused_times() > 0)
        ngx.say("set: ", memc:set(k, "hello, memcached", 0, 7))
        local v, flags, err = memc:get(k)
        ngx.say("get: ", v, " flags ", flags)
        ngx.say("add existing: ", memc:add(k, "x"))
        ngx.say("append: ", memc:append(k, "!"))
        ngx.say("get: ", (memc:get(k)))
        ngx.say("missing: ", memc:get(k .. ":missing"))
        ngx.say("set n: ", memc:set(k .. ":n", 10))
        ngx.say("incr: ", memc:incr(k .. ":n", 5))
        ngx.say("decr: ", memc:decr(k .. ":n", 3))
        local res = memc:get({k, k .. ":n", k .. ":none"})
        ngx.say("multi get: ", res[k][1], " | ", res[k .. ":n"][1], " | ", tostring(res[k .. ":none"]))
        local v, flags, cas = memc:gets(k)
        ngx.say("gets: ", v, " ", type(cas))
        ngx.say("cas: ", memc:cas(k, "swapped", cas))
        ngx.say("cas stale: ", memc:cas(k, "again", cas))
        ngx.say("get: ", (memc:get(k)))
        ngx.say("delete: ", memc:delete(k))
        ngx.say("delete again: ", memc:delete(k))
        memc:delete(k .. ":n")
        ngx.say("version is a string: ", type(memc:version()) == "string")
        ngx.say("keepalive: ", memc:set_keepalive(10000, 10))
    }
}
"#,
    );
    let k = key("memc");
    let want = |reused: bool| {
        format!(
            "reused: {reused}\n\
             set: 1\n\
             get: hello, memcached flags 7\n\
             add existing: nilNOT_STORED\n\
             append: 1\n\
             get: hello, memcached!\n\
             missing: nilnilnil\n\
             set n: 1\n\
             incr: 15\n\
             decr: 12\n\
             multi get: hello, memcached! | 12 | nil\n\
             gets: hello, memcached! string\n\
             cas: 1\n\
             cas stale: nilEXISTS\n\
             get: swapped\n\
             delete: 1\n\
             delete again: nilNOT_FOUND\n\
             version is a string: true\n\
             keepalive: 1\n"
        )
    };
    assert_eq!(body(&s, &format!("/t?key={k}")), want(false));
    assert_eq!(body(&s, &format!("/t?key={k}")), want(true));
}

// ---------------------------------------------------------------------------
// lua-resty-dns
// ---------------------------------------------------------------------------

/// A dnsmasq serving a hosts file on `127.0.0.1:port` (UDP and TCP), in the
/// foreground, killed by its pid when dropped.
struct Dnsmasq {
    port: u16,
    child: Child,
    _dir: tempfile::TempDir,
}

/// One dnsmasq at a time: they pick their port the racy way.
static DNSMASQ_LOCK: Mutex<()> = Mutex::new(());

impl Dnsmasq {
    /// `hosts`: `(address, name)` lines of the hosts file.
    fn start(hosts: &[(&str, &str)]) -> Dnsmasq {
        let _g = DNSMASQ_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let hosts_file = dir.path().join("hosts");
        let text: String = hosts.iter().map(|(a, n)| format!("{a} {n}\n")).collect();
        fs::write(&hosts_file, text).unwrap();
        for _ in 0..5 {
            let port = free_udp_port();
            let mut child = Command::new("/usr/sbin/dnsmasq")
                .arg("--no-daemon")
                .arg(format!("--port={port}"))
                .arg("--listen-address=127.0.0.1")
                .arg("--bind-interfaces")
                .arg("--no-resolv")
                .arg("--no-hosts")
                .arg(format!("--addn-hosts={}", hosts_file.display()))
                .arg("--local=/moonwire.test/")
                .arg("--pid-file=")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("run /usr/sbin/dnsmasq (Debian package dnsmasq-base)");
            // up once it answers on TCP too
            let deadline = Instant::now() + Duration::from_secs(3);
            loop {
                if tcp_port_open(port) {
                    return Dnsmasq {
                        port,
                        child,
                        _dir: dir,
                    };
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break; // port taken meanwhile: try another
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                thread::sleep(Duration::from_millis(10));
            }
        }
        panic!("could not start dnsmasq");
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn dns_resolver_queries() {
    let dns = Dnsmasq::start(&[
        ("10.11.12.13", "host1.moonwire.test"),
        ("10.0.0.1", "multi.moonwire.test"),
        ("10.0.0.2", "multi.moonwire.test"),
    ]);
    let s = start(
        "",
        &format!(
            r#"
location = /t {{
    content_by_lua_block {{
        local resolver = require "resty.dns.resolver"
        local r, err = resolver:new{{
            nameservers = {{ {{"127.0.0.1", {port}}} }},
            retrans = 2,
            timeout = 1000,
        }}
        if not r then
            ngx.say("failed to instantiate the resolver: ", err)
            return
        end
        local function show(name, opts)
            local answers, err = r:query(name, opts)
            if not answers then
                ngx.say(name, ": failed: ", err)
                return
            end
            if answers.errcode then
                ngx.say(name, ": error ", answers.errcode, " ", answers.errstr)
                return
            end
            local out = {{}}
            for _, a in ipairs(answers) do
                out[#out + 1] = a.name .. " " .. a.type .. " " .. (a.address or "?")
            end
            table.sort(out)
            ngx.say(name, ": ", #answers, " answer(s): ", table.concat(out, ", "))
        end
        show("host1.moonwire.test")
        show("multi.moonwire.test")
        show("nothing.moonwire.test")
        show("host1.moonwire.test", {{qtype = r.TYPE_AAAA}})
        show("host1.moonwire.test", {{qtype = r.TYPE_A}})
        -- the same over TCP
        local answers = assert(r:tcp_query("multi.moonwire.test"))
        ngx.say("tcp: ", #answers, " answer(s)")
        ngx.say("TYPE_A: ", r.TYPE_A, ", TYPE_AAAA: ", r.TYPE_AAAA)
        -- the address helpers are built on ngx.re.sub
        ngx.say(resolver.arpa_str("10.11.12.13"), " ", resolver.compress_ipv6_addr("0:0:0:0:0:0:0:1"),
                " ", resolver.expand_ipv6_addr("2001:db8::1"))
        local ptr = assert(r:reverse_query("10.11.12.13"))
        ngx.say("ptr: ", #ptr, " ", ptr[1] and ptr[1].ptrdname)
    }}
}}
"#,
            port = dns.port
        ),
    );
    let want = "host1.moonwire.test: 1 answer(s): host1.moonwire.test 1 10.11.12.13\n\
                multi.moonwire.test: 2 answer(s): multi.moonwire.test 1 10.0.0.1, multi.moonwire.test 1 10.0.0.2\n\
                nothing.moonwire.test: error 3 name error\n\
                host1.moonwire.test: 0 answer(s): \n\
                host1.moonwire.test: 1 answer(s): host1.moonwire.test 1 10.11.12.13\n\
                tcp: 2 answer(s)\n\
                TYPE_A: 1, TYPE_AAAA: 28\n\
                13.12.11.10.in-addr.arpa ::1 2001:db8:0:0:0:0:0:1\n\
                ptr: 1 host1.moonwire.test\n";
    assert_eq!(body(&s, "/t"), want);
    assert_eq!(body(&s, "/t"), want);
}

// ---------------------------------------------------------------------------
// lua-resty-lrucache
// ---------------------------------------------------------------------------

#[test]
fn lrucache() {
    let s = start(
        "",
        r#"
location = /t {
    content_by_lua_block {
        for _, mod in ipairs({"resty.lrucache", "resty.lrucache.pureffi"}) do
            local lrucache = require(mod)
            local c = assert(lrucache.new(3))
            c:set("a", 1)
            c:set("b", {x = 2})
            c:set("c", "three", 0.05)
            ngx.say(mod, ": ", c:get("a"), " ", c:get("b").x, " ", c:get("c"), " count ", c:count(), " capacity ", c:capacity())
            -- "a" was used last of a, b: adding "d" evicts "b"
            c:get("a")
            c:set("d", 4)
            ngx.say("after eviction: ", c:get("a"), " ", tostring(c:get("b")), " ", c:get("c"), " ", (c:get("d")))
            ngx.sleep(0.07)
            local v, stale = c:get("c")
            ngx.say("expired: ", tostring(v), " stale: ", tostring(stale))
            c:delete("a")
            ngx.say("deleted: ", tostring(c:get("a")), " count ", c:count())
            c:flush_all()
            ngx.say("flushed: ", tostring(c:get("d")), " count ", c:count())
        end
    }
}
"#,
    );
    let one = |m: &str| {
        format!(
            "{m}: 1 2 three count 3 capacity 3\n\
             after eviction: 1 nil three 4\n\
             expired: nil stale: three\n\
             deleted: nil count 2\n\
             flushed: nil count 0\n"
        )
    };
    assert_eq!(
        body(&s, "/t"),
        one("resty.lrucache") + &one("resty.lrucache.pureffi")
    );
}

// ---------------------------------------------------------------------------
// lua-resty-string
// ---------------------------------------------------------------------------

#[test]
fn resty_string_digests_random_and_hex() {
    let s = start(
        "",
        r#"
location = /t {
    content_by_lua_block {
        local str = require "resty.string"
        local sha1 = require "resty.sha1"
        local sha256 = require "resty.sha256"
        local sha512 = require "resty.sha512"
        local md5 = require "resty.md5"
        local random = require "resty.random"

        local h = sha256:new()
        h:update("hel")
        h:update("lo")
        ngx.say("sha256: ", str.to_hex(h:final()))
        h = sha1:new()
        h:update("hello")
        ngx.say("sha1: ", str.to_hex(h:final()), " ", ngx.sha1_bin("hello") == (function()
            local h2 = sha1:new() h2:update("hello") return h2:final() end)())
        h = sha512:new()
        h:update("hello")
        ngx.say("sha512: ", str.to_hex(h:final()):sub(1, 32))
        h = md5:new()
        h:update("hello")
        local d = h:final()
        ngx.say("md5: ", str.to_hex(d), " ", str.to_hex(d) == ngx.md5("hello"))
        ngx.say("to_hex: ", str.to_hex("\0\1\127\128\255 AZ"))
        ngx.say("atoi: ", str.atoi("12345") + 1)
        local r1 = random.bytes(16)
        local r2 = random.bytes(16, true)
        ngx.say("random: ", #r1, " ", #r2, " ", r1 ~= random.bytes(16), " ", #str.to_hex(r1))
    }
}
"#,
    );
    assert_eq!(
        body(&s, "/t"),
        "sha256: 2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\n\
         sha1: aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d true\n\
         sha512: 9b71d224bd62f3785d96d46ad3ea3d73\n\
         md5: 5d41402abc4b2a76b9719d911017c592 true\n\
         to_hex: 00017f80ff20415a\n\
         atoi: 12346\n\
         random: 16 16 true 32\n"
    );
}
