# ngx.exit: statuses before and after output.

=== TEST 1: exit(200) before any output sends an empty 200
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(200)
        ngx.say("not reached")
    }
}
--- request
GET /t
--- response_body
--- response_headers
Content-Type: text/plain
--- no_error_log
[error]



=== TEST 2: exit(200) after output ends the response
--- config
location = /t {
    content_by_lua_block {
        ngx.say("hi")
        ngx.exit(200)
        ngx.say("not reached")
    }
}
--- request
GET /t
--- response_body
hi
--- no_error_log
[error]



=== TEST 3: exit(ngx.OK) after output
--- config
location = /t {
    content_by_lua_block {
        ngx.say("x")
        ngx.exit(ngx.OK)
        ngx.say("y")
    }
}
--- request
GET /t
--- response_body
x
--- no_error_log
[error]



=== TEST 4: exit(201) before output
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(201)
    }
}
--- request
GET /t
--- error_code: 201
--- response_body
--- no_error_log
[error]



=== TEST 5: exit(ngx.HTTP_CREATED) after setting ngx.status and output
--- config
location = /t {
    content_by_lua_block {
        ngx.status = ngx.HTTP_CREATED
        ngx.say("created")
        return ngx.exit(ngx.HTTP_OK)
    }
}
--- request
GET /t
--- error_code: 201
--- response_body
created
--- no_error_log
[error]



=== TEST 6: exit(404) sends the 404 page
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(404)
    }
}
--- request
GET /t
--- error_code: 404
--- response_headers
Content-Type: text/html
--- response_body_like
<head><title>404 Not Found</title></head>
--- no_error_log
[error]



=== TEST 7: exit(ngx.HTTP_NOT_FOUND) after output cannot change the status
--- config
location = /t {
    content_by_lua_block {
        ngx.say("x")
        ngx.exit(ngx.HTTP_NOT_FOUND)
        ngx.say("y")
    }
}
--- request
GET /t
--- response_body
x
--- error_log
attempt to set status 404 via ngx.exit after sending out the response status 200



=== TEST 8: exit(500) sends the 500 page
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(500)
    }
}
--- request
GET /t
--- error_code: 500
--- response_body_like
<center><h1>500 Internal Server Error</h1></center>
--- no_error_log
[error]



=== TEST 9: exit(503)
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(ngx.HTTP_SERVICE_UNAVAILABLE)
    }
}
--- request
GET /t
--- error_code: 503
--- response_body_like
<title>503 Service Temporarily Unavailable</title>
--- no_error_log
[error]



=== TEST 10: exit(204) sends no body and no Content-Type
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(204)
    }
}
--- request
GET /t
--- error_code: 204
--- response_body
--- response_headers
!Content-Type
!Content-Length
--- no_error_log
[error]



=== TEST 11: ngx.status then exit(0) keeps the status
--- config
location = /t {
    content_by_lua_block {
        ngx.status = 404
        ngx.exit(0)
    }
}
--- request
GET /t
--- error_code: 404
--- response_body
--- no_error_log
[error]



=== TEST 12: exit(302) sends the 302 page
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(302)
    }
}
--- request
GET /t
--- error_code: 302
--- response_body_like
<head><title>302 Found</title></head>
--- no_error_log
[error]



=== TEST 13: an unknown status code gets an empty body
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(599)
    }
}
--- request
GET /t
--- error_code: 599
--- response_body
--- response_headers
Content-Length: 0
!Content-Type
--- no_error_log
[error]



=== TEST 14: exit(444) closes the connection without a response
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(444)
    }
}
--- request
GET /t
--- ignore_response
--- no_error_log
[error]



=== TEST 15: exit(ngx.ERROR) closes the connection without a response
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(ngx.ERROR)
    }
}
--- request
GET /t
--- ignore_response
--- no_error_log
[error]



=== TEST 16: exit inside a function and a pcall stops the whole handler
--- config
location = /t {
    content_by_lua_block {
        local function f()
            ngx.say("in f")
            ngx.exit(200)
        end
        pcall(f)
        ngx.say("not reached")
    }
}
--- request
GET /t
--- response_body
in f
--- no_error_log
[error]



=== TEST 17: exit with a string status is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.exit("abc")
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
lua entry thread aborted: runtime error:



=== TEST 18: exit with a numeric string status is an error too
--- config
location = /t {
    content_by_lua_block {
        ngx.exit("403")
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
lua entry thread aborted: runtime error:



=== TEST 19: exit(ngx.HTTP_OK) after ngx.flush(true)
--- config
location = /t {
    content_by_lua_block {
        ngx.say("a")
        ngx.flush(true)
        ngx.exit(ngx.HTTP_OK)
    }
}
--- request
GET /t
--- response_body
a
--- no_error_log
[error]



=== TEST 20: exit(400) and exit(413) pages
--- config
location = /t {
    content_by_lua_block {
        ngx.exit(tonumber(ngx.var.arg_s))
    }
}
--- request
GET /t?s=413
--- error_code: 413
--- response_body_like
<title>413 Request Entity Too Large</title>
--- no_error_log
[error]
