# ngx.* string, encoding, hashing and time helpers end to end, with the
# values lua-nginx-module 0.10.23 produces.

=== TEST 1: escape_uri / unescape_uri
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.escape_uri("a b/c?d=e&f"))
        ngx.say(ngx.escape_uri("a b/c", 0))
        ngx.say(ngx.unescape_uri("a%20b+c%2Fd"))
        ngx.say(ngx.escape_uri(nil), "|", ngx.unescape_uri(nil))
    }
}
--- request
GET /t
--- response_body
a%20b%2Fc%3Fd%3De%26f
a%20b/c
a b c/d
|
--- no_error_log
[error]



=== TEST 2: encode_args / decode_args
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.encode_args({a = "1 2"}))
        ngx.say(ngx.encode_args({flag = true, off = false}))
        local t = ngx.decode_args("a=1&b=2&a=3&c")
        ngx.say(t.a[1], ",", t.a[2], " ", t.b, " ", tostring(t.c))
    }
}
--- request
GET /t
--- response_body
a=1%202
flag
1,3 2 true
--- no_error_log
[error]



=== TEST 3: base64, md5, sha1, hmac, crc32, quote_sql_str
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.encode_base64("hello"))
        ngx.say(ngx.encode_base64("hello", true))
        ngx.say(ngx.decode_base64("aGVsbG8="))
        ngx.say(tostring(ngx.decode_base64("!!")))
        ngx.say(ngx.md5("hello"))
        ngx.say(#ngx.md5_bin("hello"), " ", #ngx.sha1_bin("hello"))
        ngx.say(ngx.encode_base64(ngx.hmac_sha1("key", "msg")))
        ngx.say(ngx.crc32_short("hello"), " ", ngx.crc32_long("hello"))
        ngx.say(ngx.quote_sql_str("it's \"x\"\n"))
    }
}
--- request
GET /t
--- response_body
aGVsbG8=
aGVsbG8
hello
nil
5d41402abc4b2a76b9719d911017c592
16 20
ECkAtyt78QMe7Ha0gEtmBSN2iWs=
907060870 907060870
'it\'s \"x\"\n'
--- no_error_log
[error]



=== TEST 4: time helpers
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.http_time(1290079655))
        ngx.say(ngx.cookie_time(1290079655))
        ngx.say(ngx.parse_http_time("Thu, 18 Nov 2010 11:27:35 GMT"))
        ngx.say(tostring(ngx.parse_http_time("garbage")))
        local t, now = ngx.time(), ngx.now()
        ngx.say(type(t), " ", math.abs(now - t) < 2)
        ngx.say(#ngx.today(), " ", #ngx.localtime(), " ", #ngx.utctime())
        ngx.update_time()
        ngx.say(ngx.req.start_time() <= ngx.now())
    }
}
--- request
GET /t
--- response_body
Thu, 18 Nov 2010 11:27:35 GMT
Thu, 18-Nov-10 11:27:35 GMT
1290079655
nil
number true
10 19 19
true
--- no_error_log
[error]



=== TEST 5: cjson, table.new, table.clear, table.nkeys
--- config
location = /t {
    content_by_lua_block {
        local cjson = require "cjson"
        ngx.say(cjson.encode({1, 2, "x"}))
        ngx.say(cjson.encode({}))
        local t = cjson.decode('{"a":[1,2,null],"b":"s"}')
        ngx.say(#t.a, " ", t.a[3] == cjson.null, " ", t.b, " ", cjson.null == ngx.null)
        local safe = require "cjson.safe"
        ngx.say(tostring(safe.decode("{bad")), " ", select(2, safe.decode("{bad")) ~= nil)
        local new = require "table.new"
        local clear = require "table.clear"
        local nkeys = require "table.nkeys"
        local x = new(4, 4)
        x.a, x.b, x[1] = 1, 2, 3
        ngx.say(nkeys(x))
        clear(x)
        ngx.say(nkeys(x), " ", next(x))
    }
}
--- request
GET /t
--- response_body
[1,2,"x"]
{}
3 true s true
nil true
3
0 nil
--- no_error_log
[error]



=== TEST 6: ngx.config and ngx.worker
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.config.subsystem, " ", type(ngx.config.debug))
        ngx.say(ngx.config.nginx_version >= 1019003, " ", ngx.config.ngx_lua_version >= 10023)
        ngx.say(ngx.config.prefix() == "$TEST_NGINX_SERVER_ROOT/")
        ngx.say(type(ngx.config.nginx_configure()))
        ngx.say(ngx.worker.id(), " ", ngx.worker.count(), " ", ngx.worker.pid() > 0, " ", ngx.worker.exiting())
        ngx.say(tostring(ngx.is_subrequest), " ", ngx.req.is_internal())
    }
}
--- request
GET /t
--- response_body
http boolean
true true
true
string
0 1 true false
false false
--- no_error_log
[error]
