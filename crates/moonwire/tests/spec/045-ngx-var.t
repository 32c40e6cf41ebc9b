# ngx.var: reading nginx variables from Lua.

=== TEST 1: uri, request_uri, args, is_args, query_string
--- config
location /t {
    content_by_lua_block {
        ngx.say("uri: ", ngx.var.uri)
        ngx.say("request_uri: ", ngx.var.request_uri)
        ngx.say("args: ", ngx.var.args)
        ngx.say("is_args: ", ngx.var.is_args)
        ngx.say("query_string: ", ngx.var.query_string)
        ngx.say("document_uri: ", ngx.var.document_uri)
    }
}
--- request
GET /t/a%20b?x=1&y=%41
--- response_body
uri: /t/a b
request_uri: /t/a%20b?x=1&y=%41
args: x=1&y=%41
is_args: ?
query_string: x=1&y=%41
document_uri: /t/a b
--- no_error_log
[error]



=== TEST 2: without a query string
--- config
location = /t {
    content_by_lua_block {
        ngx.say("args: ", ngx.var.args)
        ngx.say("is_args: [", ngx.var.is_args, "]")
        ngx.say("request_uri: ", ngx.var.request_uri)
    }
}
--- request
GET /t
--- response_body
args: nil
is_args: []
request_uri: /t
--- no_error_log
[error]



=== TEST 3: an empty query string is no query string
--- config
location = /t {
    content_by_lua_block {
        ngx.say("args: [", ngx.var.args, "]")
        ngx.say("is_args: [", ngx.var.is_args, "]")
    }
}
--- request
GET /t?
--- response_body
args: [nil]
is_args: []
--- no_error_log
[error]



=== TEST 4: arg_NAME
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.arg_a, " ", ngx.var.arg_b, " ", ngx.var.arg_missing, " [", ngx.var.arg_empty, "]")
        ngx.say(ngx.var.arg_A)
    }
}
--- request
GET /t?a=1&b=two%20words&empty=&A=upper
--- response_body
1 two%20words nil []
1
--- no_error_log
[error]



=== TEST 5: the first of repeated arguments
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.arg_x)
    }
}
--- request
GET /t?x=first&x=second
--- response_body
first
--- no_error_log
[error]



=== TEST 6: http_NAME
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.http_x_foo)
        ngx.say(ngx.var.http_user_agent)
        ngx.say(ngx.var.http_host)
        ngx.say(ngx.var.http_x_missing)
    }
}
--- request
GET /t
--- more_headers
X-Foo: bar
User-Agent: spec/1.0
--- response_body
bar
spec/1.0
localhost
nil
--- no_error_log
[error]



=== TEST 7: repeated request headers: the first one (nginx 1.22)
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.http_x_rep)
    }
}
--- request
GET /t
--- more_headers
X-Rep: one
X-Rep: two
--- response_body
one
--- no_error_log
[error]



=== TEST 8: repeated Cookie headers are joined with "; "
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.http_cookie)
    }
}
--- request
GET /t
--- more_headers
Cookie: a=1
Cookie: b=2
--- response_body
a=1; b=2
--- no_error_log
[error]



=== TEST 9: cookie_NAME
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.cookie_a)
        ngx.say(ngx.var.cookie_b)
        ngx.say(ngx.var.cookie_c)
        ngx.say(ngx.var.cookie_missing)
    }
}
--- request
GET /t
--- more_headers
Cookie: a=1; b=hello world;c=3
--- response_body
1
hello world
3
nil
--- no_error_log
[error]



=== TEST 10: request_method, request, server_protocol
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.request_method)
        ngx.say(ngx.var.request)
        ngx.say(ngx.var.server_protocol)
    }
}
--- request
POST /t?q=1
--- request_body chomp
hello
--- response_body
POST
POST /t?q=1 HTTP/1.1
HTTP/1.1
--- no_error_log
[error]



=== TEST 11: remote_addr, server_addr, server_port, scheme
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.remote_addr)
        ngx.say(ngx.var.server_addr)
        ngx.say(ngx.var.server_port)
        ngx.say(ngx.var.scheme)
        ngx.say(ngx.var.remote_port == nil, " ", tonumber(ngx.var.remote_port) > 0)
    }
}
--- request
GET /t
--- response_body
127.0.0.1
127.0.0.1
$TEST_NGINX_SERVER_PORT
http
false true
--- no_error_log
[error]



=== TEST 12: host comes from the Host header, lowercased, without the port
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.host)
        ngx.say(ngx.var.http_host)
    }
}
--- request
GET /t
--- more_headers
Host: WWW.Example.COM:8080
--- response_body
www.example.com
WWW.Example.COM:8080
--- no_error_log
[error]



=== TEST 13: host for an HTTP/1.0 request without a Host header
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.host)
        ngx.say(ngx.var.server_name)
    }
}
--- raw_request
GET /t HTTP/1.0

--- response_body
localhost
localhost
--- no_error_log
[error]



=== TEST 14: status is 000 before the header is sent, then the status
--- config
location = /t {
    content_by_lua_block {
        local before = ngx.var.status
        ngx.status = 201
        local set = ngx.var.status
        ngx.say(before, " ", set)
        ngx.say(ngx.var.status)
    }
}
--- request
GET /t
--- error_code: 201
--- response_body
000 201
201
--- no_error_log
[error]



=== TEST 15: an unknown variable is nil
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.no_such_variable)
        ngx.say(ngx.var.foo_bar)
    }
}
--- request
GET /t
--- response_body
nil
nil
--- no_error_log
[error]



=== TEST 16: variable names are case-insensitive
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.URI, " ", ngx.var.Request_Method)
    }
}
--- request
GET /t
--- response_body
/t GET
--- no_error_log
[error]



=== TEST 17: writing an unknown variable is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.var.not_defined = "x"
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
variable "not_defined" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use "set $not_defined '';" in the config file to define it first



=== TEST 18: writing a read-only built-in variable is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.var.uri = "/other"
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
variable "uri" not changeable



=== TEST 19: writing $args changes the arguments
--- config
location = /t {
    content_by_lua_block {
        ngx.var.args = "a=2&b=3"
        ngx.say(ngx.var.args, " ", ngx.var.arg_a, " ", ngx.var.is_args)
        ngx.say(ngx.req.get_uri_args().b)
        ngx.say(ngx.var.request_uri)
    }
}
--- request
GET /t?a=1
--- response_body
a=2&b=3 2 ?
3
/t?a=1
--- no_error_log
[error]



=== TEST 20: content_length and content_type of the request
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.content_length)
        ngx.say(ngx.var.content_type)
    }
}
--- request
POST /t
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- request_body chomp
a=1&b=2
--- response_body
7
application/x-www-form-urlencoded
--- no_error_log
[error]



=== TEST 21: content_length and content_type absent
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.content_length, " ", ngx.var.content_type)
    }
}
--- request
GET /t
--- response_body
nil nil
--- no_error_log
[error]



=== TEST 22: server_name, nginx_version, pid
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.server_name)
        ngx.say(ngx.var.nginx_version)
        ngx.say(tonumber(ngx.var.pid) > 0)
    }
}
--- request
GET /t
--- response_body
localhost
1.22.1
true
--- no_error_log
[error]



=== TEST 23: regex captures of the location as ngx.var[N]
--- config
location ~ ^/cap/(\w+)/(\d+)$ {
    content_by_lua_block {
        ngx.say(ngx.var[1], " ", ngx.var[2], " ", ngx.var[3])
    }
}
--- request
GET /cap/abc/42
--- response_body
abc 42 nil
--- no_error_log
[error]



=== TEST 24: sent_http_ variables see the response headers set so far
--- config
location = /t {
    content_by_lua_block {
        ngx.header["X-Out"] = "val"
        ngx.header.content_type = "text/x-test"
        ngx.say(ngx.var.sent_http_x_out, " ", ngx.var.sent_http_content_type)
    }
}
--- request
GET /t
--- response_body
val text/x-test
--- no_error_log
[error]



=== TEST 25: binary_remote_addr is four bytes
--- config
location = /t {
    content_by_lua_block {
        local b = ngx.var.binary_remote_addr
        ngx.say(#b, " ", b:byte(1), ".", b:byte(2), ".", b:byte(3), ".", b:byte(4))
    }
}
--- request
GET /t
--- response_body
4 127.0.0.1
--- no_error_log
[error]



=== TEST 26: the uri is normalized
--- config
location /t {
    content_by_lua_block {
        ngx.say(ngx.var.uri)
        ngx.say(ngx.var.request_uri)
    }
}
--- request
GET /t/a/../b/./c//d
--- response_body
/t/b/c/d
/t/a/../b/./c//d
--- no_error_log
[error]
