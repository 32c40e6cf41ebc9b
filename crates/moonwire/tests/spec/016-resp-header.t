# ngx.header: setting, reading and clearing response headers.

=== TEST 1: set a custom header
--- config
location = /t {
    content_by_lua_block {
        ngx.header["X-Foo"] = "bar"
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_headers
X-Foo: bar
--- response_body
ok
--- no_error_log
[error]



=== TEST 2: underscores become dashes
--- config
location = /t {
    content_by_lua_block {
        ngx.header.x_my_header = "v1"
        ngx.say(ngx.header["X-My-Header"])
    }
}
--- request
GET /t
--- response_headers
X-My-Header: v1
--- response_body
v1
--- no_error_log
[error]



=== TEST 3: reading is case-insensitive
--- config
location = /t {
    content_by_lua_block {
        ngx.header["X-Case"] = "yes"
        ngx.say(ngx.header["x-case"], " ", ngx.header.X_CASE, " ", ngx.header["X-CASE"])
    }
}
--- request
GET /t
--- response_body
yes yes yes
--- no_error_log
[error]



=== TEST 4: multiple values from a table
--- config
location = /t {
    content_by_lua_block {
        ngx.header["Set-Cookie"] = {"a=1", "b=2"}
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_headers
Set-Cookie: a=1, b=2
--- response_body
ok
--- no_error_log
[error]



=== TEST 5: reading a multi-value header gives a table
--- config
location = /t {
    content_by_lua_block {
        ngx.header.x_multi = {"one", "two", "three"}
        local v = ngx.header.x_multi
        ngx.say(type(v), " ", #v, " ", table.concat(v, ","))
    }
}
--- request
GET /t
--- response_body
table 3 one,two,three
--- no_error_log
[error]



=== TEST 6: nil clears a header
--- config
location = /t {
    content_by_lua_block {
        ngx.header["X-Gone"] = "here"
        ngx.header["X-Gone"] = nil
        ngx.say("gone: ", ngx.header["X-Gone"])
    }
}
--- request
GET /t
--- response_headers
!X-Gone
--- response_body
gone: nil
--- no_error_log
[error]



=== TEST 7: an empty table clears a header
--- config
location = /t {
    content_by_lua_block {
        ngx.header["X-Gone"] = "here"
        ngx.header["X-Gone"] = {}
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_headers
!X-Gone
--- response_body
ok
--- no_error_log
[error]



=== TEST 8: setting again replaces the value
--- config
location = /t {
    content_by_lua_block {
        ngx.header["X-Foo"] = "a"
        ngx.header["X-Foo"] = "b"
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_headers
X-Foo: b
--- response_body
ok
--- no_error_log
[error]



=== TEST 9: numbers and booleans are stringified
--- config
location = /t {
    content_by_lua_block {
        ngx.header["X-Num"] = 32
        ngx.header["X-Float"] = 1.5
        ngx.header["X-Bool"] = true
        ngx.say(ngx.header["X-Num"], " ", type(ngx.header["X-Num"]))
    }
}
--- request
GET /t
--- response_headers
X-Num: 32
X-Float: 1.5
X-Bool: true
--- response_body
32 string
--- no_error_log
[error]



=== TEST 10: Content-Type
--- config
location = /t {
    content_by_lua_block {
        ngx.header.content_type = "application/json"
        ngx.say(ngx.header.content_type)
    }
}
--- request
GET /t
--- response_headers
Content-Type: application/json
--- response_body
application/json
--- no_error_log
[error]



=== TEST 11: the default Content-Type comes from default_type
--- config
location = /t {
    default_type text/html;
    content_by_lua_block {
        ngx.say("hi")
    }
}
--- request
GET /t
--- response_headers
Content-Type: text/html
--- response_body
hi
--- no_error_log
[error]



=== TEST 12: reading Content-Type before it is set gives nil
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.header.content_type)
    }
}
--- request
GET /t
--- response_body
nil
--- no_error_log
[error]



=== TEST 13: Content-Length set by Lua
--- config
location = /t {
    content_by_lua_block {
        ngx.header.content_length = 5
        ngx.print("hello")
    }
}
--- request
GET /t
--- response_headers
Content-Length: 5
!Transfer-Encoding
--- response_body chomp
hello
--- no_error_log
[error]



=== TEST 14: reading Content-Length back gives a string
--- config
location = /t {
    content_by_lua_block {
        ngx.header["Content-Length"] = 7
        local v = ngx.header.content_length
        ngx.print(v, type(v))
    }
}
--- request
GET /t
--- response_headers
Content-Length: 7
--- response_body chomp
7string
--- no_error_log
[error]



=== TEST 15: without Content-Length the body is chunked
--- config
location = /t {
    content_by_lua_block {
        ngx.say("chunky")
    }
}
--- request
GET /t
--- response_headers
Transfer-Encoding: chunked
!Content-Length
--- response_body
chunky
--- no_error_log
[error]



=== TEST 16: HTTP/1.0 responses are not chunked
--- config
location = /t {
    content_by_lua_block {
        ngx.say("old")
    }
}
--- request
GET /t HTTP/1.0
--- response_headers
!Transfer-Encoding
--- response_body
old
--- no_error_log
[error]



=== TEST 17: setting a header after the headers are sent logs an error
--- config
location = /t {
    content_by_lua_block {
        ngx.say("first")
        ngx.header["X-Late"] = "late"
        ngx.say("second")
    }
}
--- request
GET /t
--- response_headers
!X-Late
--- response_body
first
second
--- error_log
attempt to set ngx.header.HEADER after sending out response headers



=== TEST 18: ngx.resp.get_headers
--- config
location = /t {
    content_by_lua_block {
        ngx.header["X-A"] = "1"
        ngx.header["X-B"] = {"2", "3"}
        local h = ngx.resp.get_headers()
        ngx.say(h["x-a"], " ", h.x_a, " ", table.concat(h["x-b"], ","))
    }
}
--- request
GET /t
--- response_body
1 1 2,3
--- no_error_log
[error]



=== TEST 19: CR and LF in header values are escaped
--- config
location = /t {
    content_by_lua_block {
        ngx.header["X-Bad"] = "a\r\nX-Injected: 1"
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_headers
X-Bad: a%0D%0AX-Injected: 1
!X-Injected
--- response_body
ok



=== TEST 20: Cache-Control and Location are passed through
--- config
location = /t {
    content_by_lua_block {
        ngx.header.cache_control = "no-cache"
        ngx.header["Location"] = "/elsewhere"
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_headers
Cache-Control: no-cache
--- response_body
ok
--- no_error_log
[error]



=== TEST 21: ngx.header is per request
--- config
location = /t {
    content_by_lua_block {
        local v = ngx.header["X-Once"]
        ngx.header["X-Once"] = "set"
        ngx.say(v)
    }
}
--- request
GET /t
--- response_body
nil
--- response_headers
X-Once: set
--- no_error_log
[error]



=== TEST 22: clearing Content-Type with nil
--- config
location = /t {
    content_by_lua_block {
        ngx.header.content_type = nil
        ngx.say("no type")
    }
}
--- request
GET /t
--- response_headers
!Content-Type
--- response_body
no type
--- no_error_log
[error]
