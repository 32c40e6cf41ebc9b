# ngx.sleep: in the handler, in pcall, in user coroutines.

=== TEST 1: sleep in the content handler
--- config
location = /t {
    content_by_lua_block {
        ngx.update_time()
        local t0 = ngx.now()
        ngx.sleep(0.1)
        ngx.update_time()
        local dt = ngx.now() - t0
        ngx.say(dt >= 0.09 and dt < 1)
    }
}
--- request
GET /t
--- response_body
true
--- no_error_log
[error]



=== TEST 2: sleep returns nothing
--- config
location = /t {
    content_by_lua_block {
        ngx.say(select("#", ngx.sleep(0.001)))
    }
}
--- request
GET /t
--- response_body
0
--- no_error_log
[error]



=== TEST 3: sleep(0)
--- config
location = /t {
    content_by_lua_block {
        ngx.say("a")
        ngx.sleep(0)
        ngx.say("b")
    }
}
--- request
GET /t
--- response_body
a
b
--- no_error_log
[error]



=== TEST 4: output around sleeps keeps its order
--- config
location = /t {
    content_by_lua_block {
        for i = 1, 3 do
            ngx.say(i)
            ngx.sleep(0.01)
        end
        ngx.say("end")
    }
}
--- request
GET /t
--- response_body
1
2
3
end
--- no_error_log
[error]



=== TEST 5: sleep inside pcall
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.sleep, 0.01)
        ngx.say(ok, " ", err)
        ok, err = pcall(function() ngx.sleep(0.01) return "inner" end)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body
true nil
true inner
--- no_error_log
[error]



=== TEST 6: sleep inside xpcall
--- config
location = /t {
    content_by_lua_block {
        local ok, v = xpcall(function() ngx.sleep(0.01) return 7 end, debug.traceback)
        ngx.say(ok, " ", v)
    }
}
--- request
GET /t
--- response_body
true 7
--- no_error_log
[error]



=== TEST 7: sleep inside coroutine.create / resume
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.create(function(a)
            ngx.sleep(0.01)
            local b = coroutine.yield(a + 1)
            ngx.sleep(0.01)
            return b * 2
        end)
        ngx.say(coroutine.resume(co, 1))
        ngx.say(coroutine.status(co))
        ngx.say(coroutine.resume(co, 10))
        ngx.say(coroutine.status(co))
    }
}
--- request
GET /t
--- response_body
true2
suspended
true20
dead
--- no_error_log
[error]



=== TEST 8: sleep inside coroutine.wrap
--- config
location = /t {
    content_by_lua_block {
        local gen = coroutine.wrap(function()
            for i = 1, 3 do
                ngx.sleep(0.005)
                coroutine.yield(i)
            end
            return "done"
        end)
        ngx.say(gen(), gen(), gen(), gen())
    }
}
--- request
GET /t
--- response_body
123done
--- no_error_log
[error]



=== TEST 9: sleep in a nested coroutine
--- config
location = /t {
    content_by_lua_block {
        local outer = coroutine.create(function()
            local inner = coroutine.create(function()
                ngx.sleep(0.01)
                coroutine.yield("inner-yield")
                return "inner-done"
            end)
            local _, a = coroutine.resume(inner)
            ngx.sleep(0.01)
            local _, b = coroutine.resume(inner)
            return a .. " " .. b
        end)
        ngx.say(coroutine.resume(outer))
    }
}
--- request
GET /t
--- response_body
trueinner-yield inner-done
--- no_error_log
[error]



=== TEST 10: an error after a sleep in a coroutine is returned by resume
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.create(function()
            ngx.sleep(0.01)
            error("oops", 0)
        end)
        ngx.say(coroutine.resume(co))
        ngx.say(coroutine.status(co))
    }
}
--- request
GET /t
--- response_body
falseoops
dead
--- no_error_log
[error]



=== TEST 11: coroutine.wrap rethrows errors raised after a sleep
--- config
location = /t {
    content_by_lua_block {
        local f = coroutine.wrap(function()
            ngx.sleep(0.01)
            error("wrapped oops", 0)
        end)
        f()
        ngx.say("not reached")
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
wrapped oops



=== TEST 12: a negative duration is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.sleep(-1)
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
content_by_lua(nginx.conf:26):2: invalid sleep duration "-1000"



=== TEST 13: a non-number duration is an error
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.sleep, "abc")
        ngx.say(ok)
    }
}
--- request
GET /t
--- response_body
false
--- no_error_log
[error]



=== TEST 14: sleep with no argument is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.sleep()
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
attempt to pass 0 arguments, but accepted 1



=== TEST 15: a numeric string duration works
--- config
location = /t {
    content_by_lua_block {
        ngx.sleep("0.01")
        ngx.say("slept")
    }
}
--- request
GET /t
--- response_body
slept
--- no_error_log
[error]



=== TEST 16: ngx.flush then sleep then more output
--- config
location = /t {
    content_by_lua_block {
        ngx.say("first")
        ngx.flush(true)
        ngx.sleep(0.02)
        ngx.say("second")
    }
}
--- request
GET /t
--- response_body
first
second
--- no_error_log
[error]
