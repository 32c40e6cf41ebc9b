# Lua errors in content handlers: 500, the log entry, and recovery (every
# block runs twice on one server, so the second run checks the server
# still works after the error).

=== TEST 1: a runtime error gives a 500 and a log entry with a traceback
--- config
location = /t {
    content_by_lua_block {
        local t = nil
        t.x = 1
    }
}
--- request
GET /t
--- error_code: 500
--- response_headers
Content-Type: text/html
--- response_body_like
<head><title>500 Internal Server Error</title></head>
--- error_log
[error]
lua entry thread aborted: runtime error: content_by_lua(nginx.conf:26):3: attempt to index local 't' (a nil value)
stack traceback:
coroutine 0:
, client: 127.0.0.1, server: localhost, request: "GET /t HTTP/1.1", host: "localhost"



=== TEST 2: error() with a string
--- config
location = /t {
    content_by_lua_block {
        error("something bad")
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
lua entry thread aborted: runtime error: content_by_lua(nginx.conf:26):2: something bad
stack traceback:



=== TEST 3: error() with level 0 has no position
--- config
location = /t {
    content_by_lua_block {
        error("no position", 0)
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
lua entry thread aborted: runtime error: no position
--- no_error_log
runtime error: content_by_lua



=== TEST 4: error() with a table value is an unknown reason
--- config
location = /t {
    content_by_lua_block {
        error({ code = 1 })
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
lua entry thread aborted: runtime error: unknown reason



=== TEST 5: error() with nil is an unknown reason
--- config
location = /t {
    content_by_lua_block {
        error(nil)
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
lua entry thread aborted: runtime error: unknown reason



=== TEST 6: calling an undefined global
--- config
location = /t {
    content_by_lua_block {
        no_such_function()
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
content_by_lua(nginx.conf:26):2: attempt to call global 'no_such_function' (a nil value)



=== TEST 7: arithmetic on a string that is not a number
--- config
location = /t {
    content_by_lua_block {
        local x = "abc" + 1
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
attempt to perform arithmetic on a string value



=== TEST 8: pcall catches the error and the request succeeds
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(error, "caught")
        ngx.say(ok, " ", err)
        ok, err = pcall(function() local t; return t.x end)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body
false caught
false content_by_lua(nginx.conf:26):4: attempt to index local 't' (a nil value)
--- no_error_log
[error]



=== TEST 9: error objects keep their identity through pcall
--- config
location = /t {
    content_by_lua_block {
        local e = { code = 42 }
        local ok, err = pcall(error, e)
        ngx.say(ok, " ", err == e, " ", err.code)
    }
}
--- request
GET /t
--- response_body
false true 42
--- no_error_log
[error]



=== TEST 10: an error in a user coroutine is returned by resume
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.create(function() error("in co", 0) end)
        ngx.say(coroutine.resume(co))
    }
}
--- request
GET /t
--- response_body
falsein co
--- no_error_log
[error]



=== TEST 11: an error in a module shows the module's file
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> broken.lua
local _M = {}
function _M.go()
    error("module failure")
end
return _M
--- config
location = /t {
    content_by_lua_block {
        require("broken").go()
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
broken.lua:3: module failure



=== TEST 12: require of a missing module
--- config
location = /t {
    content_by_lua_block {
        require "no.such.module"
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
module 'no.such.module' not found:



=== TEST 13: an error after the headers were sent truncates the response
--- config
location = /t {
    content_by_lua_block {
        ngx.say("partial")
        ngx.flush(true)
        error("late failure")
    }
}
--- request
GET /t
--- ignore_response
--- error_log
lua entry thread aborted: runtime error: content_by_lua(nginx.conf:26):4: late failure



=== TEST 14: an error after buffered output still cannot send a 500
--- config
location = /t {
    content_by_lua_block {
        ngx.say("partial")
        error("late failure")
    }
}
--- request
GET /t
--- ignore_response
--- error_log
late failure



=== TEST 15: a status set before the error is replaced by 500
--- config
location = /t {
    content_by_lua_block {
        ngx.status = 201
        ngx.header["X-Before"] = "1"
        error("fail")
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
runtime error: content_by_lua(nginx.conf:26):4: fail



=== TEST 16: a string error with a trailing newline
--- config
location = /t {
    content_by_lua_block {
        error("multi\nline", 0)
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
runtime error: multi



=== TEST 17: an error in a function shows the traceback frames
--- config
location = /t {
    content_by_lua_block {
        local function inner() error("deep") end
        local function outer() inner() end
        outer()
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
content_by_lua(nginx.conf:26):2: deep
in function 'inner'
in function 'outer'
