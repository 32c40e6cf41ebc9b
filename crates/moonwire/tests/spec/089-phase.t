# ngx.get_phase

=== TEST 1: content phase
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.get_phase())
    }
}
--- request
GET /t
--- response_body
content
--- no_error_log
[error]



=== TEST 2: content phase inside a user coroutine and a pcall
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.wrap(function() return ngx.get_phase() end)
        local _, p = pcall(ngx.get_phase)
        ngx.say(co(), " ", p)
    }
}
--- request
GET /t
--- response_body
content content
--- no_error_log
[error]



=== TEST 3: content phase after a sleep
--- config
location = /t {
    content_by_lua_block {
        ngx.sleep(0.001)
        ngx.say(ngx.get_phase())
    }
}
--- request
GET /t
--- response_body
content
--- no_error_log
[error]



=== TEST 4: content phase from a content_by_lua_file
--- user_files
>>> phase.lua
ngx.say(ngx.get_phase())
--- config
location = /t {
    content_by_lua_file html/phase.lua;
}
--- request
GET /t
--- response_body
content
--- no_error_log
[error]
