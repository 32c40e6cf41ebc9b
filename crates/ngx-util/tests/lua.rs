//! Exercises every binding through a real LuaJIT state.

use mlua::{Lua, Table, Value};

fn setup() -> Lua {
    let lua = Lua::new();
    let ngx = lua.create_table().unwrap();
    ngx_util::register(&lua, &ngx).unwrap();
    lua.globals().set("ngx", ngx).unwrap();
    let b64 = ngx_util::base64_module(&lua).unwrap();
    lua.globals().set("b64", b64).unwrap();
    // Error messages of `pcall`ed snippets, for exact comparison.
    lua.load(
        r#"
        function err_of(f, ...)
            local ok, err = pcall(f, ...)
            assert(not ok, "expected an error")
            return err
        end
        "#,
    )
    .exec()
    .unwrap();
    lua
}

/// Evaluates a Lua expression (chunk name `t`, so positions read `t:<line>:`).
fn eval<T: mlua::FromLuaMulti>(lua: &Lua, expr: &str) -> T {
    lua.load(format!("return {expr}"))
        .set_name("=t")
        .eval::<T>()
        .unwrap_or_else(|e| panic!("{expr}: {e}"))
}

/// Runs a chunk that must not fail; `assert`s inside it do the checking.
fn exec(lua: &Lua, code: &str) {
    lua.load(code)
        .set_name("=t")
        .exec()
        .unwrap_or_else(|e| panic!("{e}"));
}

fn s(lua: &Lua, expr: &str) -> String {
    eval::<String>(lua, expr)
}

fn bytes(lua: &Lua, expr: &str) -> Vec<u8> {
    eval::<mlua::LuaString>(lua, expr).as_bytes().to_vec()
}

#[test]
fn escape_uri_all_types() {
    let lua = setup();
    let cases = [
        ("nil", "%20%2F%3F%26%3D%25%E4%B8%AD"),
        ("0", "%20/%3F&=%25%E4%B8%AD"),
        ("1", "%20/%3F&=%25%E4%B8%AD"),
        ("2", "%20%2F%3F%26%3D%25%E4%B8%AD"),
        ("3", "%20/?&=%25%E4%B8%AD"),
        ("4", "%20/?&=%%E4%B8%AD"),
        ("5", "%20/?&=%25中"),
        ("6", "%20/?&=%25中"),
        ("2.9", "%20%2F%3F%26%3D%25%E4%B8%AD"),
    ];
    for (ty, want) in cases {
        assert_eq!(
            s(&lua, &format!("ngx.escape_uri(' /?&=%中', {ty})")),
            want,
            "type {ty}"
        );
    }
    assert_eq!(s(&lua, "ngx.escape_uri('a+b')"), "a%2Bb");
    assert_eq!(s(&lua, "ngx.escape_uri(\"-_.~!*'()\")"), "-_.~!*'()");
    assert_eq!(s(&lua, "ngx.escape_uri(nil)"), "");
    assert_eq!(s(&lua, "ngx.escape_uri(false)"), "");
    assert_eq!(s(&lua, "ngx.escape_uri(32)"), "32");
    assert_eq!(s(&lua, "ngx.escape_uri(1.5)"), "1.5");
    assert_eq!(s(&lua, "ngx.escape_uri(true)"), "true");
    assert_eq!(
        s(
            &lua,
            "ngx.escape_uri(setmetatable({}, {__tostring = function() return 'x y' end}))"
        ),
        "x%20y"
    );
    assert_eq!(s(&lua, "ngx.escape_uri('')"), "");
    assert_eq!(bytes(&lua, "ngx.escape_uri('\\0\\255')"), b"%00%FF");
}

#[test]
fn escape_uri_type_errors() {
    let lua = setup();
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.escape_uri('a', 'x') end)"
        ),
        "\"type\" is not a number"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.escape_uri('a', 7) end)"
        ),
        "\"type\" 7 out of range"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.escape_uri('a', -1) end)"
        ),
        "\"type\" -1 out of range"
    );
    // Reported two levels up, like lua-resty-core's error(msg, 3).
    exec(
        &lua,
        "local function g() local x = ngx.escape_uri('a', 6.5) end\n\
         local err = err_of(function() g() end)\n\
         assert(err == 't:2: \"type\" 6.5 out of range', err)",
    );
}

#[test]
fn unescape_uri() {
    let lua = setup();
    assert_eq!(s(&lua, "ngx.unescape_uri('a%20%e4%bd%a0')"), "a 你");
    assert_eq!(s(&lua, "ngx.unescape_uri('a+b%2B%zz%4')"), "a b+%zz%4");
    assert_eq!(s(&lua, "ngx.unescape_uri(nil)"), "");
    assert_eq!(s(&lua, "ngx.unescape_uri(32)"), "32");
    assert_eq!(bytes(&lua, "ngx.unescape_uri('%00%FF')"), b"\x00\xff");
}

#[test]
fn encode_args() {
    let lua = setup();
    assert_eq!(s(&lua, "ngx.encode_args({})"), "");
    assert_eq!(s(&lua, "ngx.encode_args({foo = 3})"), "foo=3");
    assert_eq!(
        s(&lua, "ngx.encode_args({['b r'] = 'hello world'})"),
        "b%20r=hello%20world"
    );
    assert_eq!(s(&lua, "ngx.encode_args({a = true})"), "a");
    assert_eq!(s(&lua, "ngx.encode_args({a = false})"), "");
    assert_eq!(s(&lua, "ngx.encode_args({a = 1.5})"), "a=1.5");
    assert_eq!(s(&lua, "ngx.encode_args({a = 1e15})"), "a=1e%2B15");
    assert_eq!(
        s(&lua, "ngx.encode_args({a = {1, 'x y', true, false, 'z'}})"),
        "a=1&a=x%20y&a&a=z"
    );
    assert_eq!(s(&lua, "ngx.encode_args({a = {}})"), "");
    assert_eq!(
        s(&lua, "ngx.encode_args({['a=&'] = '/?#'})"),
        "a%3D%26=%2F%3F%23"
    );
    assert_eq!(s(&lua, "ngx.encode_args({[''] = 'x'})"), "=x");
    // Multiple keys come out in next() order; compare as a set.
    exec(
        &lua,
        r#"
        local got = ngx.encode_args({foo = "bar", n = 2, t = true, f = false})
        local seen = {}
        for item in got:gmatch("[^&]+") do seen[item] = true end
        assert(seen["foo=bar"] and seen["n=2"] and seen["t"], got)
        assert(#got == #"foo=bar&n=2&t", got)
        "#,
    );
}

#[test]
fn encode_args_errors() {
    let lua = setup();
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.encode_args({'a'}) end)"
        ),
        "t:1: attempt to use a non-string key in the \"args\" option table"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.encode_args({a = print}) end)"
        ),
        "t:1: attempt to use function as query arg value"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.encode_args({a = {{}}}) end)"
        ),
        "t:1: attempt to use table as query arg value"
    );
    assert_eq!(
        s(&lua, "err_of(function() local x = ngx.encode_args() end)"),
        "t:1: expecting 1 argument but seen 0"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.encode_args('a') end)"
        ),
        "t:1: bad argument #1 to 'encode_args' (table expected, got string)"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local enc = ngx.encode_args; local x = enc(1) end)"
        ),
        "t:1: bad argument #1 to 'enc' (table expected, got number)"
    );
    assert_eq!(
        s(&lua, "err_of(function() local x = ngx:crc32_short() end)"),
        "t:1: calling 'crc32_short' on bad self (string expected, got table)"
    );
    assert_eq!(
        s(&lua, "err_of(ngx.encode_args, 1)"),
        "bad argument #1 to '?' (table expected, got number)"
    );
}

#[test]
fn decode_args() {
    let lua = setup();
    exec(
        &lua,
        r##"
        local t, err = ngx.decode_args("a&b=1&a=2&=x&c=")
        assert(err == nil)
        assert(select("#", ngx.decode_args("a")) == 1)
        assert(type(t.a) == "table" and #t.a == 2 and t.a[1] == true and t.a[2] == "2")
        assert(t.b == "1" and t.c == "")
        local n = 0
        for _ in pairs(t) do n = n + 1 end
        assert(n == 3)

        local u = ngx.decode_args("a+b=c%20d&x=%zz&y")
        assert(u["a b"] == "c d" and u.x == "%zz" and u.y == true)

        local v, err2 = ngx.decode_args("a=1&b=2", 1)
        assert(v.a == "1" and v.b == nil and err2 == "truncated")
        local w, err3 = ngx.decode_args("a=1&b=2", "2")
        assert(w.a == "1" and w.b == "2" and err3 == nil)
        local x = ngx.decode_args("a=1&b=2&c=3", 0)
        assert(x.c == "3")
        local y = ngx.decode_args(123)
        assert(y["123"] == true)
        assert(next(ngx.decode_args("")) == nil)
        "##,
    );
    let big: String = (0..120)
        .map(|i| format!("k{i}=v"))
        .collect::<Vec<_>>()
        .join("&");
    exec(
        &lua,
        &format!(
            "local t, err = ngx.decode_args('{big}')\n\
             local n = 0 for _ in pairs(t) do n = n + 1 end\n\
             assert(n == 100 and err == 'truncated' and t.k99 == 'v' and t.k100 == nil)"
        ),
    );
    assert_eq!(
        s(&lua, "err_of(function() local x = ngx.decode_args() end)"),
        "t:1: expecting 1 or 2 arguments but seen 0"
    );
    assert_eq!(
        s(&lua, "err_of(function() local x = ngx.decode_args({}) end)"),
        "t:1: bad argument #1 to 'decode_args' (string expected, got table)"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.decode_args('a', nil) end)"
        ),
        "t:1: bad argument #2 to 'decode_args' (number expected, got nil)"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.decode_args('a', 'x') end)"
        ),
        "t:1: bad argument #2 to 'decode_args' (number expected, got string)"
    );
}

#[test]
fn base64() {
    let lua = setup();
    assert_eq!(s(&lua, "ngx.encode_base64('hello')"), "aGVsbG8=");
    assert_eq!(s(&lua, "ngx.encode_base64('hello', true)"), "aGVsbG8");
    assert_eq!(s(&lua, "ngx.encode_base64('hello', false)"), "aGVsbG8=");
    assert_eq!(s(&lua, "ngx.encode_base64(nil)"), "");
    assert_eq!(s(&lua, "ngx.encode_base64(12)"), "MTI=");
    assert_eq!(s(&lua, "ngx.decode_base64('aGVsbG8=')"), "hello");
    assert_eq!(s(&lua, "ngx.decode_base64('aGVsbG8')"), "hello");
    assert_eq!(s(&lua, "ngx.decode_base64('')"), "");
    assert_eq!(s(&lua, "tostring(ngx.decode_base64('a'))"), "nil");
    assert_eq!(s(&lua, "tostring(ngx.decode_base64('aGVs bG8='))"), "nil");
    assert_eq!(
        bytes(&lua, "ngx.decode_base64(ngx.encode_base64('\\0\\1\\255'))"),
        b"\x00\x01\xff"
    );
    assert_eq!(s(&lua, "ngx.decode_base64mime('aGVs\\nbG8=')"), "hello");
    assert_eq!(s(&lua, "tostring(ngx.decode_base64mime('zaaLg=='))"), "nil");
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.decode_base64(1) end)"
        ),
        "t:1: string argument only"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.decode_base64mime(nil) end)"
        ),
        "t:1: string argument only"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.encode_base64('a', 1) end)"
        ),
        "t:1: bad no_padding: boolean expected, got number"
    );
}

#[test]
fn base64_module() {
    let lua = setup();
    assert_eq!(s(&lua, "b64.encode_base64url('\\255\\254')"), "__4");
    assert_eq!(s(&lua, "b64.encode_base64url('foobar')"), "Zm9vYmFy");
    assert_eq!(bytes(&lua, "b64.decode_base64url('_w')"), b"\xff");
    exec(
        &lua,
        r#"
        local r, err = b64.decode_base64url("     ")
        assert(r == nil and err == "invalid input")
        assert(select('#', b64.encode_base64url("x")) == 1)
        assert(select('#', b64.decode_base64url("eA")) == 1)
        r, err = b64.encode_base64url(1)
        assert(r == nil and err == "must provide a string")
        r, err = b64.decode_base64url(nil)
        assert(r == nil and err == "must provide a string")
        "#,
    );
}

#[test]
fn digests() {
    let lua = setup();
    assert_eq!(
        s(&lua, "ngx.md5('hello')"),
        "5d41402abc4b2a76b9719d911017c592"
    );
    assert_eq!(s(&lua, "ngx.md5(nil)"), "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(s(&lua, "ngx.md5(123)"), "202cb962ac59075b964b07152d234b70");
    assert_eq!(
        bytes(&lua, "ngx.md5_bin('hello')"),
        ngx_util::md5_bin(b"hello").to_vec()
    );
    assert_eq!(
        bytes(&lua, "ngx.sha1_bin('hello')"),
        ngx_util::sha1_bin(b"hello").to_vec()
    );
    assert_eq!(
        s(&lua, "ngx.encode_base64(ngx.hmac_sha1('thisisverysecretstuff', 'some string we want to sign'))"),
        "R/pvxzHC4NLtj7S+kXFg/NePTmk="
    );
    assert_eq!(eval::<f64>(&lua, "ngx.crc32_short('hello')"), 907060870.0);
    assert_eq!(eval::<f64>(&lua, "ngx.crc32_long('hello')"), 907060870.0);
    assert_eq!(
        eval::<f64>(&lua, "ngx.crc32_long(123456789)"),
        f64::from(0xCBF43926u32)
    );
    assert_eq!(
        s(&lua, "err_of(function() local x = ngx.crc32_short() end)"),
        "t:1: expecting one argument, but got 0"
    );
    assert_eq!(
        s(&lua, "err_of(function() local x = ngx.crc32_long(nil) end)"),
        "t:1: bad argument #1 to 'crc32_long' (string expected, got nil)"
    );
    assert_eq!(
        s(&lua, "err_of(function() local x = ngx.hmac_sha1('k') end)"),
        "t:1: expecting 2 arguments, but got 1"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.hmac_sha1('k', {}) end)"
        ),
        "t:1: bad argument #2 to 'hmac_sha1' (string expected, got table)"
    );
}

#[test]
fn quote_sql_str() {
    let lua = setup();
    assert_eq!(s(&lua, "ngx.quote_sql_str('')"), "''");
    assert_eq!(
        s(
            &lua,
            "ngx.quote_sql_str(\"a'b\\\"c\\\\d\\n\\r\\t\\0\\26\\b\")"
        ),
        "'a\\'b\\\"c\\\\d\\n\\r\\t\\0\\Z\\b'"
    );
    assert_eq!(s(&lua, "ngx.quote_sql_str(12)"), "'12'");
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.quote_sql_str(nil) end)"
        ),
        "t:1: bad argument #1 to 'quote_sql_str' (string expected, got nil)"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.quote_sql_str('a', 'b') end)"
        ),
        "t:1: expecting one argument"
    );
}

#[test]
fn cached_time_functions() {
    let lua = setup();
    exec(&lua, "ngx.update_time()");
    let cached = ngx_util::time::cached_time();
    assert_eq!(eval::<i64>(&lua, "ngx.time()"), cached.sec);
    assert_eq!(
        eval::<f64>(&lua, "ngx.now()"),
        cached.sec as f64 + f64::from(cached.msec) / 1000.0
    );
    assert_eq!(s(&lua, "ngx.utctime()"), ngx_util::utctime());
    assert_eq!(s(&lua, "ngx.localtime()"), ngx_util::localtime());
    assert_eq!(s(&lua, "ngx.today()"), ngx_util::today());
    exec(
        &lua,
        r#"
        assert(ngx.utctime():match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$"))
        assert(ngx.localtime():match("^%d%d%d%d%-%d%d%-%d%d %d%d:%d%d:%d%d$"))
        assert(ngx.today():match("^%d%d%d%d%-%d%d%-%d%d$"))
        local t, n = ngx.time(), ngx.now()
        assert(n >= t and n < t + 1)
        assert(math.abs(n * 1000 - math.floor(n * 1000 + 0.5)) < 1e-3)
        assert(math.abs(os.time() - t) <= 2)
        "#,
    );
}

#[test]
fn time_formatting_and_parsing() {
    let lua = setup();
    assert_eq!(
        s(&lua, "ngx.http_time(1290079655)"),
        "Thu, 18 Nov 2010 11:27:35 GMT"
    );
    assert_eq!(
        s(&lua, "ngx.http_time(1290079655.9)"),
        "Thu, 18 Nov 2010 11:27:35 GMT"
    );
    assert_eq!(
        s(&lua, "ngx.http_time(-1)"),
        "Thu, 01 Jan 1970 00:00:00 GMT"
    );
    assert_eq!(
        s(&lua, "ngx.cookie_time(1290079655)"),
        "Thu, 18-Nov-10 11:27:35 GMT"
    );
    assert_eq!(
        s(&lua, "ngx.cookie_time(2169266400)"),
        "Tue, 28-Sep-2038 06:00:00 GMT"
    );
    assert_eq!(
        eval::<i64>(&lua, "ngx.parse_http_time('Thu, 18 Nov 2010 11:27:35 GMT')"),
        1290079655
    );
    assert_eq!(
        eval::<i64>(
            &lua,
            "ngx.parse_http_time('Thursday, 18-Nov-10 11:27:35 GMT')"
        ),
        1290079655
    );
    assert_eq!(
        eval::<i64>(&lua, "ngx.parse_http_time('Thu Nov 18 11:27:35 2010')"),
        1290079655
    );
    assert_eq!(s(&lua, "tostring(ngx.parse_http_time('junk'))"), "nil");
    assert_eq!(
        s(&lua, "err_of(function() local x = ngx.http_time('1') end)"),
        "t:1: number argument only"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.cookie_time(nil) end)"
        ),
        "t:1: number argument only"
    );
    assert_eq!(
        s(
            &lua,
            "err_of(function() local x = ngx.parse_http_time(1) end)"
        ),
        "t:1: string argument only"
    );
}

#[test]
fn everything_is_registered() {
    let lua = setup();
    let ngx: Table = lua.globals().get("ngx").unwrap();
    for name in [
        "escape_uri",
        "unescape_uri",
        "encode_args",
        "decode_args",
        "encode_base64",
        "decode_base64",
        "decode_base64mime",
        "md5",
        "md5_bin",
        "sha1_bin",
        "hmac_sha1",
        "crc32_short",
        "crc32_long",
        "quote_sql_str",
        "time",
        "now",
        "today",
        "update_time",
        "localtime",
        "utctime",
        "http_time",
        "cookie_time",
        "parse_http_time",
    ] {
        assert!(
            matches!(ngx.get::<Value>(name).unwrap(), Value::Function(_)),
            "{name}"
        );
    }
}

#[test]
fn rust_side_encode_args_and_table_builder() {
    let lua = setup();
    let tbl: Table = eval(&lua, "{q = {'a b', true}}");
    assert_eq!(ngx_util::encode_args(&lua, &tbl).unwrap(), b"q=a%20b&q");
    let (args, truncated) = ngx_util::parse_uri_args(b"x=1&x=2&y", 100);
    assert!(!truncated);
    let t = ngx_util::args_to_table(&lua, &args).unwrap();
    lua.globals().set("T", t).unwrap();
    exec(
        &lua,
        "assert(T.x[1] == '1' and T.x[2] == '2' and T.y == true)",
    );
}
