# ngx.req.set_header, clear_header, and ngx.req's add_header (lua-resty-core).

=== TEST 1: set_header is seen by get_headers, $http_* and ngx.var
--- config
location = /t {
    content_by_lua_block {
        ngx.req.set_header("X-Foo", "new")
        ngx.req.set_header("X-Added", "yes")
        local h = ngx.req.get_headers()
        ngx.say("foo: ", h["x-foo"], " added: ", h.x_added)
        ngx.say("var: ", ngx.var.http_x_foo, " ", ngx.var.http_x_added)
        ngx.say("user agent kept: ", h["user-agent"])
    }
}
--- request
GET /t
--- more_headers
X-Foo: old
User-Agent: spec
--- response_body
foo: new added: yes
var: new yes
user agent kept: spec
--- no_error_log
[error]



=== TEST 2: set_header replaces every occurrence; a table sets several
--- config
location = /t {
    content_by_lua_block {
        ngx.req.set_header("X-Rep", { "a", "b" })
        local v = ngx.req.get_headers()["x-rep"]
        ngx.say(type(v), " ", table.concat(v, ","))
        ngx.say("var: ", ngx.var.http_x_rep)
    }
}
--- request
GET /t
--- more_headers
X-Rep: 1
X-Rep: 2
X-Rep: 3
--- response_body
table a,b
var: a
--- no_error_log
[error]



=== TEST 3: clear_header and set_header to nil
--- config
location = /t {
    content_by_lua_block {
        ngx.req.clear_header("X-A")
        ngx.req.set_header("X-B", nil)
        local h = ngx.req.get_headers()
        ngx.say(h["x-a"], " ", h["x-b"], " ", h["x-c"])
        ngx.say(ngx.var.http_x_a, " ", ngx.var.http_x_c)
    }
}
--- request
GET /t
--- more_headers
X-A: 1
X-B: 2
X-C: 3
--- response_body
nil nil 3
nil 3
--- no_error_log
[error]



=== TEST 4: add_header from the ngx.req module
--- config
location = /t {
    content_by_lua_block {
        local req = require "ngx.req"
        req.add_header("X-Multi", "two")
        req.add_header("X-New", "one")
        local h = ngx.req.get_headers()
        ngx.say(table.concat(h["x-multi"], ","), " ", h["x-new"])
    }
}
--- request
GET /t
--- more_headers
X-Multi: one
--- response_body
one,two one
--- no_error_log
[error]



=== TEST 5: the Host header changes $host
--- config
location = /t {
    content_by_lua_block {
        ngx.req.set_header("Host", "example.com")
        ngx.say(ngx.var.host, " ", ngx.var.http_host)
    }
}
--- request
GET /t
--- response_body
example.com example.com
--- no_error_log
[error]



=== TEST 6: numbers become strings, raw names keep their case
--- config
location = /t {
    content_by_lua_block {
        ngx.req.set_header("X-Num", 42)
        local h = ngx.req.get_headers(0, true)
        ngx.say(h["X-Num"], " ", type(h["X-Num"]))
    }
}
--- request
GET /t
--- response_body
42 string
--- no_error_log
[error]
