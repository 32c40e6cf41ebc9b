# ngx.ctx: per-request Lua table.

=== TEST 1: ngx.ctx keeps values within a request
--- config
location = /t {
    content_by_lua_block {
        ngx.ctx.foo = 32
        local function f() return ngx.ctx.foo end
        ngx.say(f())
    }
}
--- request
GET /t
--- response_body
32
--- no_error_log
[error]



=== TEST 2: ngx.ctx starts empty in every request
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.ctx.n)
        ngx.ctx.n = (ngx.ctx.n or 0) + 1
        ngx.say(ngx.ctx.n)
    }
}
--- request
GET /t
--- response_body
nil
1
--- no_error_log
[error]



=== TEST 3: ngx.ctx is the same table on every access
--- config
location = /t {
    content_by_lua_block {
        local a = ngx.ctx
        local b = ngx.ctx
        ngx.say(a == b, " ", type(a))
    }
}
--- request
GET /t
--- response_body
true table
--- no_error_log
[error]



=== TEST 4: ngx.ctx can be replaced by a table
--- config
location = /t {
    content_by_lua_block {
        ngx.ctx = { replaced = "yes" }
        ngx.say(ngx.ctx.replaced)
    }
}
--- request
GET /t
--- response_body
yes
--- no_error_log
[error]



=== TEST 5: assigning a non-table to ngx.ctx is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.ctx = 32
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
ctx should be a table while getting a number



=== TEST 6: ngx.ctx survives ngx.sleep
--- config
location = /t {
    content_by_lua_block {
        ngx.ctx.v = "kept"
        ngx.sleep(0.01)
        ngx.say(ngx.ctx.v)
    }
}
--- request
GET /t
--- response_body
kept
--- no_error_log
[error]



=== TEST 7: ngx.ctx inside a user coroutine is the request's
--- config
location = /t {
    content_by_lua_block {
        ngx.ctx.outer = 1
        local co = coroutine.create(function()
            ngx.ctx.inner = 2
            return ngx.ctx.outer
        end)
        local ok, v = coroutine.resume(co)
        ngx.say(ok, " ", v, " ", ngx.ctx.inner)
    }
}
--- request
GET /t
--- response_body
true 1 2
--- no_error_log
[error]



=== TEST 8: ngx.ctx in a module function
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> ctxmod.lua
local _M = {}
function _M.set(v) ngx.ctx.from_mod = v end
function _M.get() return ngx.ctx.from_mod end
return _M
--- config
location = /t {
    content_by_lua_block {
        local m = require "ctxmod"
        ngx.say(m.get())
        m.set("hello")
        ngx.say(m.get(), " ", ngx.ctx.from_mod)
    }
}
--- request
GET /t
--- response_body
nil
hello hello
--- no_error_log
[error]
