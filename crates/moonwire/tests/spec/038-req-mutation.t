# ngx.req.set_uri, set_uri_args, set_method.

=== TEST 1: set_uri without jump changes $uri only
--- config
location /t {
    content_by_lua_block {
        ngx.req.set_uri("/foo bar")
        ngx.say("uri: ", ngx.var.uri)
        ngx.say("request_uri: ", ngx.var.request_uri)
    }
}
--- request
GET /t?a=1
--- response_body
uri: /foo bar
request_uri: /t?a=1
--- no_error_log
[error]



=== TEST 2: set_uri with jump outside rewrite
--- config
location /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.req.set_uri, "/foo", true)
        ngx.say(ok, " ", err)
        ngx.say("uri: ", ngx.var.uri)
    }
}
--- request
GET /t
--- response_body
false API disabled in the context of content_by_lua*
uri: /t
--- no_error_log
[error]



=== TEST 3: zero-length uri and unsafe bytes
--- config
location /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.req.set_uri, "")
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
        ok, err = pcall(ngx.req.set_uri, "/a\nb")
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
        ok, err = pcall(ngx.req.set_uri, "/a\nb", false, true)
        ngx.say(ok, " ", err, " ", #ngx.var.uri)
    }
}
--- request
GET /t
--- response_body
false attempt to use zero-length uri
false unsafe byte "0x0a" in uri "/a\x0Ab" (maybe you want to set the 'binary' argument?)
true nil 4
--- no_error_log
[error]



=== TEST 4: set_uri_args with a string and a table
--- config
location /t {
    content_by_lua_block {
        ngx.req.set_uri_args("a=3&b=hello")
        ngx.say("args: ", ngx.var.args)
        ngx.say("arg_b: ", ngx.var.arg_b)
        ngx.req.set_uri_args({ x = "1 2" })
        ngx.say("args: ", ngx.var.args)
        local args = ngx.req.get_uri_args()
        ngx.say("x: ", args.x)
        ngx.say("request_uri: ", ngx.var.request_uri)
    }
}
--- request
GET /t?old=1
--- response_body
args: a=3&b=hello
arg_b: hello
args: x=1%202
x: 1 2
request_uri: /t?old=1
--- no_error_log
[error]



=== TEST 5: set_uri_args with a bad argument
--- config
location /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.req.set_uri_args, true)
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
    }
}
--- request
GET /t
--- response_body_like
false bad argument #1 to '.*' \(string, number, or table expected, but got .*\)
--- no_error_log
[error]



=== TEST 6: set_method
--- config
location /t {
    content_by_lua_block {
        ngx.req.set_method(ngx.HTTP_POST)
        ngx.say("method: ", ngx.req.get_method())
        ngx.say("var: ", ngx.var.request_method)
        ngx.req.set_method(ngx.HTTP_PATCH)
        ngx.say("method: ", ngx.req.get_method())
        local ok, err = pcall(ngx.req.set_method, 12345)
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
    }
}
--- request
GET /t
--- response_body
method: POST
var: POST
method: PATCH
false unsupported HTTP method: 12345
--- no_error_log
[error]



=== TEST 7: set_uri with jump in rewrite looks the location up again
--- config
location /t {
    rewrite_by_lua_block {
        ngx.req.set_uri("/bar", true)
        ngx.log(ngx.ERR, "not reached")
    }
    content_by_lua_block { ngx.say("t") }
}
location /bar {
    content_by_lua_block { ngx.say("bar: ", ngx.var.uri, " ", ngx.var.request_uri) }
}
--- request
GET /t?a=1
--- response_body
bar: /bar /t?a=1
--- no_error_log
[error]



=== TEST 8: set_uri without jump in rewrite keeps the location
--- config
location /t {
    rewrite_by_lua_block {
        ngx.req.set_uri("/bar", false)
        ngx.req.set_uri_args("b=2")
    }
    content_by_lua_block { ngx.say("t: ", ngx.var.uri, "?", ngx.var.args) }
}
location /bar {
    content_by_lua_block { ngx.say("bar") }
}
--- request
GET /t?a=1
--- response_body
t: /bar?b=2
--- no_error_log
[error]
