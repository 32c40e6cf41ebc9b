# ngx.redirect

=== TEST 1: a relative redirect stays relative
--- config
location = /t {
    content_by_lua_block {
        ngx.redirect("/foo")
        ngx.say("not reached")
    }
}
--- request
GET /t
--- error_code: 302
--- response_headers
Location: /foo
Content-Type: text/html
--- response_body_like
<head><title>302 Found</title></head>
--- no_error_log
[error]



=== TEST 2: an absolute URL is kept as is
--- config
location = /t {
    content_by_lua_block {
        return ngx.redirect("http://example.com/path?a=1")
    }
}
--- request
GET /t
--- error_code: 302
--- response_headers
Location: http://example.com/path?a=1
--- no_error_log
[error]



=== TEST 3: 301
--- config
location = /t {
    content_by_lua_block {
        ngx.redirect("http://example.com/", ngx.HTTP_MOVED_PERMANENTLY)
    }
}
--- request
GET /t
--- error_code: 301
--- response_headers
Location: http://example.com/
--- response_body_like
<head><title>301 Moved Permanently</title></head>
--- no_error_log
[error]



=== TEST 4: 303
--- config
location = /t {
    content_by_lua_block {
        ngx.redirect("http://example.com/", ngx.HTTP_SEE_OTHER)
    }
}
--- request
GET /t
--- error_code: 303
--- response_headers
Location: http://example.com/
--- no_error_log
[error]



=== TEST 5: 307
--- config
location = /t {
    content_by_lua_block {
        ngx.redirect("http://example.com/", ngx.HTTP_TEMPORARY_REDIRECT)
    }
}
--- request
GET /t
--- error_code: 307
--- response_headers
Location: http://example.com/
--- response_body_like
<head><title>307 Temporary Redirect</title></head>
--- no_error_log
[error]



=== TEST 6: 308
--- config
location = /t {
    content_by_lua_block {
        ngx.redirect("http://example.com/", 308)
    }
}
--- request
GET /t
--- error_code: 308
--- response_headers
Location: http://example.com/
--- no_error_log
[error]



=== TEST 7: a non-redirect status is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.redirect("/foo", 404)
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
only ngx.HTTP_MOVED_TEMPORARILY, ngx.HTTP_MOVED_PERMANENTLY, ngx.HTTP_PERMANENT_REDIRECT, ngx.HTTP_SEE_OTHER, and ngx.HTTP_TEMPORARY_REDIRECT are allowed



=== TEST 8: redirect after output is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.say("hi")
        ngx.flush(true)
        ngx.redirect("/foo")
    }
}
--- request
GET /t
--- ignore_response
--- error_log
attempt to call ngx.redirect after sending out the headers



=== TEST 9: the redirect target with a query string
--- config
location = /t {
    content_by_lua_block {
        ngx.redirect("/dest?x=" .. ngx.var.arg_x)
    }
}
--- request
GET /t?x=42
--- error_code: 302
--- response_headers
Location: /dest?x=42
--- no_error_log
[error]



=== TEST 10: the Host header does not change a relative redirect
--- config
location = /t {
    content_by_lua_block {
        ngx.redirect("/there")
    }
}
--- request
GET /t
--- more_headers
Host: foo.example
--- error_code: 302
--- response_headers
Location: /there
--- no_error_log
[error]



=== TEST 11: a header set before the redirect is kept
--- config
location = /t {
    content_by_lua_block {
        ngx.header["X-Before"] = "yes"
        ngx.redirect("http://example.com/")
    }
}
--- request
GET /t
--- error_code: 302
--- response_headers
X-Before: yes
Location: http://example.com/
--- no_error_log
[error]



=== TEST 12: HEAD gets the redirect without a body
--- config
location = /t {
    content_by_lua_block {
        ngx.redirect("http://example.com/")
    }
}
--- request
HEAD /t
--- error_code: 302
--- response_headers
Location: http://example.com/
--- response_body
--- no_error_log
[error]
