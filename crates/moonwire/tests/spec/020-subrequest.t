# ngx.location.capture and capture_multi

=== TEST 1: capture a Lua location: status, headers, body
--- config
location = /sub {
    content_by_lua_block {
        ngx.status = 201
        ngx.header["X-Sub"] = "yes"
        ngx.say("sub body ", ngx.var.arg_a)
    }
}
location = /t {
    content_by_lua_block {
        local res = ngx.location.capture("/sub?a=1")
        ngx.say(res.status, " ", res.header["X-Sub"], " ", res.header["Content-Type"], " ", tostring(res.truncated))
        ngx.print(res.body)
    }
}
--- request
GET /t
--- response_body
201 yes text/plain false
sub body 1
--- no_error_log
[error]



=== TEST 2: args as a table and as a string; method and body
--- config
location = /sub {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say(ngx.req.get_method(), " ", ngx.var.args, " ", ngx.req.get_body_data())
    }
}
location = /t {
    content_by_lua_block {
        local res = ngx.location.capture("/sub", { method = ngx.HTTP_POST, args = { x = 1 }, body = "hello" })
        ngx.print(res.body)
        res = ngx.location.capture("/sub?y=2", { method = ngx.HTTP_PUT, args = "z=3", body = "b" })
        ngx.print(res.body)
    }
}
--- request
GET /t
--- response_body
POST x=1 hello
PUT y=2&z=3 b
--- no_error_log
[error]



=== TEST 3: capture_multi runs subrequests in parallel
--- config
location = /sleep {
    content_by_lua_block {
        ngx.sleep(tonumber(ngx.var.arg_s))
        ngx.print(ngx.var.arg_s)
    }
}
location = /t {
    content_by_lua_block {
        local t0 = ngx.now()
        local a, b, c = ngx.location.capture_multi({
            { "/sleep", { args = "s=0.2" } },
            { "/sleep", { args = "s=0.2" } },
            { "/sleep?s=0.1" },
        })
        ngx.update_time()
        local elapsed = ngx.now() - t0
        ngx.say(a.body, " ", b.body, " ", c.body, " ", elapsed < 0.35)
    }
}
--- request
GET /t
--- response_body
0.2 0.2 0.1 true
--- no_error_log
[error]



=== TEST 4: internal locations, error pages and static files
--- user_files
>>> static.txt
static file
--- config
location /internal {
    internal;
    content_by_lua_block { ngx.print("inside") }
}
location = /t {
    content_by_lua_block {
        local a = ngx.location.capture("/internal")
        local b = ngx.location.capture("/missing.txt")
        local c = ngx.location.capture("/static.txt")
        ngx.say(a.status, " ", a.body)
        ngx.say(b.status)
        ngx.print(c.status, " ", c.body)
    }
}
--- request
GET /t
--- response_body
200 inside
404
200 static file
--- error_log
open()



=== TEST 5: ngx.is_subrequest and ngx.req.is_internal
--- config
location = /sub {
    content_by_lua_block {
        ngx.print(tostring(ngx.is_subrequest), " ", tostring(ngx.req.is_internal()))
    }
}
location = /t {
    content_by_lua_block {
        local res = ngx.location.capture("/sub")
        ngx.say(tostring(ngx.is_subrequest), " ", tostring(ngx.req.is_internal()), " | ", res.body)
    }
}
--- request
GET /t
--- response_body
false false | true true
--- no_error_log
[error]



=== TEST 6: the ctx option and a subrequest's own ngx.ctx
--- config
location = /sub {
    content_by_lua_block {
        ngx.ctx.seen = (ngx.ctx.seen or "none") .. "+sub"
        ngx.print(ngx.ctx.seen)
    }
}
location = /t {
    content_by_lua_block {
        ngx.ctx.seen = "parent"
        local shared = { seen = "given" }
        local a = ngx.location.capture("/sub")
        local b = ngx.location.capture("/sub", { ctx = shared })
        ngx.say(a.body, " ", b.body, " ", shared.seen, " ", ngx.ctx.seen)
    }
}
--- request
GET /t
--- response_body
none+sub given+sub given+sub parent
--- no_error_log
[error]



=== TEST 7: vars, copy_all_vars and share_all_vars
--- config
location = /sub {
    content_by_lua_block {
        ngx.print(ngx.var.dog, ngx.var.cat)
        ngx.var.dog = "changed"
    }
}
location = /t {
    set $dog "hello";
    set $cat " world";
    content_by_lua_block {
        local a = ngx.location.capture("/sub", { vars = { dog = "given", cat = "!" } })
        local b = ngx.location.capture("/sub", { copy_all_vars = true })
        ngx.say(a.body, "|", b.body, "|", ngx.var.dog)
        local c = ngx.location.capture("/sub", { share_all_vars = true })
        ngx.say(c.body, "|", ngx.var.dog)
    }
}
--- request
GET /t
--- response_body
given!|hello world|hello
hello world|changed
--- no_error_log
[error]



=== TEST 8: a subrequest with rewrite and access handlers, exiting with a status
--- moonwire_only: lua-nginx-module 0.10.23 reports 200 here (docs/compatibility.md)
--- config
location = /sub {
    access_by_lua_block { ngx.exit(403) }
    content_by_lua_block { ngx.print("not reached") }
}
location = /t {
    content_by_lua_block {
        local res = ngx.location.capture("/sub")
        ngx.say(res.status)
    }
}
--- request
GET /t
--- response_body
403
--- no_error_log
[error]



=== TEST 9: capture in rewrite and access phases
--- config
location = /sub {
    content_by_lua_block { ngx.print(ngx.var.arg_p) }
}
location = /t {
    rewrite_by_lua_block {
        ngx.ctx.r = ngx.location.capture("/sub?p=rewrite").body
    }
    access_by_lua_block {
        ngx.ctx.a = ngx.location.capture("/sub?p=access").body
    }
    content_by_lua_block { ngx.say(ngx.ctx.r, " ", ngx.ctx.a) }
}
--- request
GET /t
--- response_body
rewrite access
--- no_error_log
[error]



=== TEST 10: capture needs a table of requests
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.location.capture_multi, "/x")
        ngx.say(err)
        ok, err = pcall(ngx.location.capture_multi, {})
        ngx.say(err)
    }
}
--- request
GET /t
--- response_body
bad argument #1 to '?' (table expected, got string)
at least one subrequest should be specified



=== TEST 11: capture is not allowed in header_filter_by_lua
--- config
location = /t {
    content_by_lua_block { ngx.say("ok") }
    header_filter_by_lua_block {
        local ok, err = pcall(ngx.location.capture, "/x")
        ngx.header["X-Err"] = err
    }
}
--- request
GET /t
--- response_headers
X-Err: API disabled in the context of header_filter_by_lua*
--- response_body
ok



=== TEST 12: multiple headers with the same name become a table
--- config
location = /sub {
    content_by_lua_block {
        ngx.header["X-Multi"] = { "a", "b" }
        ngx.print("x")
    }
}
location = /t {
    content_by_lua_block {
        local res = ngx.location.capture("/sub")
        ngx.say(type(res.header["X-Multi"]), " ", table.concat(res.header["X-Multi"], ","))
    }
}
--- request
GET /t
--- response_body
table a,b
--- no_error_log
[error]
