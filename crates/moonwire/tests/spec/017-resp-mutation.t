# The ngx.resp module (lua-resty-core), lua_transform_underscores_in_response_headers,
# lua_use_default_type.

=== TEST 1: add_header adds to what ngx.header set
--- config
location = /t {
    content_by_lua_block {
        local resp = require "ngx.resp"
        ngx.header["X-Multi"] = "one"
        resp.add_header("X-Multi", "two")
        resp.add_header("X-Single", "only")
        ngx.say("multi: ", table.concat(ngx.header["X-Multi"], ","))
    }
}
--- request
GET /t
--- response_headers
X-Multi: one, two
X-Single: only
--- response_body
multi: one,two
--- no_error_log
[error]



=== TEST 2: set_status with a reason phrase
--- moonwire_only
Debian's lua-resty-core 0.1.25 has no ngx.resp.set_status yet (it came later).
--- config
location = /t {
    content_by_lua_block {
        local resp = require "ngx.resp"
        resp.set_status(299, "Fine Indeed")
        ngx.say("status: ", ngx.status)
    }
}
--- request
GET /t
--- error_code: 299
--- response_body
status: 299
--- no_error_log
[error]



=== TEST 3: underscores in response header names
--- config
location = /t {
    content_by_lua_block {
        ngx.header.x_foo_bar = "dashes"
        ngx.say(ngx.header["X-Foo-Bar"])
    }
}
--- request
GET /t
--- response_headers
X-Foo-Bar: dashes
--- response_body
dashes
--- no_error_log
[error]



=== TEST 4: lua_transform_underscores_in_response_headers off
--- config
location = /t {
    lua_transform_underscores_in_response_headers off;
    content_by_lua_block {
        ngx.header.x_foo_bar = "kept"
        ngx.say(ngx.header.x_foo_bar, " ", ngx.header["X-Foo-Bar"])
    }
}
--- request
GET /t
--- response_headers
x_foo_bar: kept
--- response_body
kept nil
--- no_error_log
[error]



=== TEST 5: lua_use_default_type off
--- config
location = /t {
    default_type text/html;
    lua_use_default_type off;
    content_by_lua_block {
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



=== TEST 6: lua_use_default_type on (the default)
--- config
location = /t {
    default_type text/html;
    content_by_lua_block {
        ngx.say("typed")
    }
}
--- request
GET /t
--- response_headers
Content-Type: text/html
--- response_body
typed
--- no_error_log
[error]
