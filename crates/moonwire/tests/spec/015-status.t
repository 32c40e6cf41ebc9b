# ngx.status: reading and writing the response status.

=== TEST 1: set the status before output
--- config
location = /t {
    content_by_lua_block {
        ngx.status = 201
        ngx.say("created")
    }
}
--- request
GET /t
--- error_code: 201
--- response_body
created
--- no_error_log
[error]



=== TEST 2: the status is 0 until set or sent
--- config
location = /t {
    content_by_lua_block {
        local before = ngx.status
        ngx.say("before: ", before)
        ngx.say("after: ", ngx.status)
    }
}
--- request
GET /t
--- response_body
before: 0
after: 200
--- no_error_log
[error]



=== TEST 3: read back what was set
--- config
location = /t {
    content_by_lua_block {
        ngx.status = 404
        ngx.say(ngx.status)
    }
}
--- request
GET /t
--- error_code: 404
--- response_body
404
--- no_error_log
[error]



=== TEST 4: a numeric string is accepted
--- config
location = /t {
    content_by_lua_block {
        ngx.status = "202"
        ngx.say(ngx.status, " ", type(ngx.status))
    }
}
--- request
GET /t
--- error_code: 202
--- response_body
202 number
--- no_error_log
[error]



=== TEST 5: setting the status after the headers are sent logs an error
--- config
location = /t {
    content_by_lua_block {
        ngx.say("hi")
        ngx.status = 500
        ngx.say("status: ", ngx.status)
    }
}
--- request
GET /t
--- response_body
hi
status: 200
--- error_log
attempt to set ngx.status after sending out response headers



=== TEST 6: a status with an unknown reason phrase
--- config
location = /t {
    content_by_lua_block {
        ngx.status = 299
        ngx.say("odd")
    }
}
--- request
GET /t
--- error_code: 299
--- response_body
odd
--- no_error_log
[error]



=== TEST 7: an error status with a Lua body sends the Lua body
--- config
location = /t {
    content_by_lua_block {
        ngx.status = 503
        ngx.say("busy")
    }
}
--- request
GET /t
--- error_code: 503
--- response_body
busy
--- response_headers
Content-Type: text/plain
--- no_error_log
[error]



=== TEST 8: status constants
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.HTTP_OK, " ", ngx.HTTP_CREATED, " ", ngx.HTTP_NO_CONTENT, " ",
                ngx.HTTP_MOVED_PERMANENTLY, " ", ngx.HTTP_MOVED_TEMPORARILY, " ",
                ngx.HTTP_NOT_MODIFIED, " ", ngx.HTTP_BAD_REQUEST, " ",
                ngx.HTTP_UNAUTHORIZED, " ", ngx.HTTP_FORBIDDEN, " ",
                ngx.HTTP_NOT_FOUND, " ", ngx.HTTP_NOT_ALLOWED, " ",
                ngx.HTTP_INTERNAL_SERVER_ERROR, " ", ngx.HTTP_SERVICE_UNAVAILABLE, " ",
                ngx.HTTP_GATEWAY_TIMEOUT)
        ngx.say(ngx.OK, " ", ngx.ERROR, " ", ngx.AGAIN, " ", ngx.DONE, " ", ngx.DECLINED)
    }
}
--- request
GET /t
--- response_body
200 201 204 301 302 304 400 401 403 404 405 500 503 504
0 -1 -2 -4 -5
--- no_error_log
[error]



=== TEST 9: ngx.status with ngx.exit(ngx.OK)
--- config
location = /t {
    content_by_lua_block {
        ngx.status = 418
        ngx.say("teapot")
        ngx.exit(ngx.OK)
    }
}
--- request
GET /t
--- error_code: 418
--- response_body
teapot
--- no_error_log
[error]



=== TEST 10: a 3xx status set by hand without a Location
--- config
location = /t {
    content_by_lua_block {
        ngx.status = 301
        ngx.say("moved")
    }
}
--- request
GET /t
--- error_code: 301
--- response_body
moved
--- response_headers
!Location
--- no_error_log
[error]



=== TEST 11: ngx.headers_sent
--- config
location = /t {
    content_by_lua_block {
        local a = ngx.headers_sent
        ngx.say("a: ", a)
        ngx.say("b: ", ngx.headers_sent)
    }
}
--- request
GET /t
--- response_body
a: false
b: true
--- no_error_log
[error]



=== TEST 12: ngx.send_headers sends the status early
--- config
location = /t {
    content_by_lua_block {
        ngx.status = 202
        ngx.send_headers()
        ngx.say("sent: ", ngx.headers_sent, " ", ngx.status)
    }
}
--- request
GET /t
--- error_code: 202
--- response_body
sent: true 202
--- no_error_log
[error]
