# content_by_lua, content_by_lua_block and content_by_lua_file.

=== TEST 1: content_by_lua with a single-quoted string
--- config
location = /t {
    content_by_lua 'ngx.say("x")';
}
--- request
GET /t
--- response_body
x
--- no_error_log
[error]



=== TEST 2: content_by_lua with a double-quoted string and escapes
--- config
location = /t {
    content_by_lua "ngx.say('a\"b')";
}
--- request
GET /t
--- response_body
a"b
--- no_error_log
[error]



=== TEST 3: content_by_lua_block
--- config
location = /t {
    content_by_lua_block {
        local a = 1
        local b = 2
        ngx.say(a + b)
    }
}
--- request
GET /t
--- response_body
3
--- no_error_log
[error]



=== TEST 4: braces inside strings
--- config
location = /t {
    content_by_lua_block {
        ngx.say("}")
        ngx.say('{')
        ngx.say("a}b{c}}")
        ngx.say("\"}")
        ngx.say('\'{')
    }
}
--- request
GET /t
--- response_body
}
{
a}b{c}}
"}
'{
--- no_error_log
[error]



=== TEST 5: braces inside comments
--- config
location = /t {
    content_by_lua_block {
        -- a comment with a } brace
        ngx.say("one") -- }}}
        --[[ a block comment
             with } and { ]]
        ngx.say("two")
        --[==[ ]] } ]==]
        ngx.say("three")
    }
}
--- request
GET /t
--- response_body
one
two
three
--- no_error_log
[error]



=== TEST 6: braces inside long brackets
--- config
location = /t {
    content_by_lua_block {
        ngx.say([[}]])
        ngx.say([=[a]]}b]=])
        ngx.say([==[
{{{]==])
    }
}
--- request
GET /t
--- response_body
}
a]]}b
{{{
--- no_error_log
[error]



=== TEST 7: table constructors and nested blocks
--- config
location = /t {
    content_by_lua_block {
        local t = { a = { b = { "c" } } }
        local function f() if true then return t.a.b[1] end end
        ngx.say(f(), #{ {}, {} })
    }
}
--- request
GET /t
--- response_body
c2
--- no_error_log
[error]



=== TEST 8: semicolons, # and $ inside the block
--- config
location = /t {
    content_by_lua_block {
        local s = "a;b#c$d"; ngx.say(s); ngx.say(#s)
    }
}
--- request
GET /t
--- response_body
a;b#c$d
7
--- no_error_log
[error]



=== TEST 9: an empty block gives an empty 200 response
--- config
location = /t {
    content_by_lua_block {
    }
}
--- request
GET /t
--- response_body
--- no_error_log
[error]



=== TEST 10: content_by_lua_file with a path relative to the prefix
--- user_files
>>> hello.lua
ngx.say("hello from a file")
--- config
location = /t {
    content_by_lua_file html/hello.lua;
}
--- request
GET /t
--- response_body
hello from a file
--- no_error_log
[error]



=== TEST 11: content_by_lua_file with an absolute path
--- user_files
>>> lib/abs.lua
local n = 0
for i = 1, 10 do n = n + i end
ngx.say("sum: ", n)
--- config
location = /t {
    content_by_lua_file $TEST_NGINX_HTML_DIR/lib/abs.lua;
}
--- request
GET /t
--- response_body
sum: 55
--- no_error_log
[error]



=== TEST 12: content_by_lua_file with a variable in the path
--- user_files
>>> a.lua
ngx.say("this is a")
>>> b.lua
ngx.say("this is b")
--- config
location /lua/ {
    content_by_lua_file html/$arg_f.lua;
}
--- request
GET /lua/x?f=b
--- response_body
this is b
--- no_error_log
[error]



=== TEST 13: a file's chunk name is its path
--- user_files
>>> err.lua
local x = nil
ngx.say(x.y)
--- config
location = /t {
    content_by_lua_file html/err.lua;
}
--- request
GET /t
--- error_code: 500
--- error_log
html/err.lua:2: attempt to index local 'x' (a nil value)



=== TEST 14: a missing file is a 404
--- config
location = /t {
    content_by_lua_file html/nope.lua;
}
--- request
GET /t
--- error_code: 404
--- error_log
failed to load external Lua file "$TEST_NGINX_HTML_DIR/nope.lua": cannot open $TEST_NGINX_HTML_DIR/nope.lua



=== TEST 15: a syntax error in a file is a 500
--- user_files
>>> bad.lua
ngx.say("a"
--- config
location = /t {
    content_by_lua_file html/bad.lua;
}
--- request
GET /t
--- error_code: 500
--- error_log
failed to load external Lua file "$TEST_NGINX_HTML_DIR/bad.lua"



=== TEST 16: a syntax error in an inline block is a 500
--- config
location = /t {
    content_by_lua_block {
        ngx.say("a"
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
failed to load inlined Lua code: content_by_lua(nginx.conf:



=== TEST 17: chunk names carry the config line
--- config
location = /t {
    content_by_lua_block {
        error("boom")
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
runtime error: content_by_lua(nginx.conf:26):2: boom



=== TEST 18: locals start afresh for every request
--- config
location = /t {
    content_by_lua_block {
        local n
        n = (n or 0) + 1
        ngx.say(n)
    }
}
--- request
GET /t
--- response_body
1
--- no_error_log
[error]



=== TEST 19: module-level state lives across requests
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> counter.lua
local _M = { n = 0 }
function _M.incr() _M.n = _M.n + 1; return _M.n end
return _M
--- config
location = /t {
    content_by_lua_block {
        local c = require "counter"
        ngx.say(c.incr() >= 1, " ", type(c.incr))
    }
}
--- request
GET /t
--- response_body
true function
--- no_error_log
[error]



=== TEST 20: the location's content handler runs for every method
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.req.get_method())
    }
}
--- request
DELETE /t
--- response_body
DELETE
--- no_error_log
[error]



=== TEST 21: HEAD gets the headers but no body
--- config
location = /t {
    content_by_lua_block {
        ngx.say("body")
    }
}
--- request
HEAD /t
--- response_body
--- no_error_log
[error]
