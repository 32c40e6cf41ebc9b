# ngx.semaphore (require "ngx.semaphore"): new/wait/post/count within a
# request, across light threads, across two requests of one worker (a
# cosocket to ourselves makes the second request), from a timer; wait
# timeouts.

=== TEST 1: counting resources
--- config
location = /t {
    content_by_lua_block {
        local semaphore = require "ngx.semaphore"
        local sema = assert(semaphore.new())
        ngx.say("new: ", sema:count())
        sema:post()
        ngx.say("post: ", sema:count())
        sema:post(2)
        ngx.say("post 2: ", sema:count())
        ngx.say("wait: ", sema:wait(0))
        ngx.say("count: ", sema:count())
        local sema5 = semaphore.new(5)
        ngx.say("new(5): ", sema5:count())
    }
}
--- request
GET /t
--- response_body
new: 0
post: 1
post 2: 3
wait: true
count: 2
new(5): 5
--- no_error_log
[error]



=== TEST 2: wait with no resource times out: nil at once with timeout 0, false after waiting
--- config
location = /t {
    content_by_lua_block {
        local semaphore = require "ngx.semaphore"
        local sema = semaphore.new(0)
        ngx.say(sema:wait(0))
        ngx.update_time()
        local t0 = ngx.now()
        ngx.say(sema:wait(0.1))
        ngx.update_time()
        local dt = ngx.now() - t0
        ngx.say(dt >= 0.09 and dt < 0.5)
        ngx.say(sema:count())
    }
}
--- request
GET /t
--- response_body
niltimeout
falsetimeout
true
0
--- no_error_log
[error]



=== TEST 3: a light thread posts while the entry thread waits
--- config
location = /t {
    content_by_lua_block {
        local semaphore = require "ngx.semaphore"
        local sema = semaphore.new(0)
        ngx.thread.spawn(function()
            ngx.sleep(0.02)
            ngx.say("thread posts")
            sema:post(1)
        end)
        ngx.say("entry waits")
        local ok, err = sema:wait(1)
        ngx.say("entry woke: ", ok, " ", err)
    }
}
--- request
GET /t
--- response_body
entry waits
thread posts
entry woke: true nil
--- no_error_log
[error]



=== TEST 4: waiters make the count negative and are woken in order
--- config
location = /t {
    content_by_lua_block {
        local semaphore = require "ngx.semaphore"
        local sema = semaphore.new(0)
        local order = {}
        local threads = {}
        for i = 1, 3 do
            threads[i] = ngx.thread.spawn(function()
                local ok, err = sema:wait(1)
                order[#order + 1] = i
            end)
        end
        ngx.say("count with 3 waiters: ", sema:count())
        sema:post(2)
        ngx.sleep(0.01)
        ngx.say("woken: ", table.concat(order, " "), ", count ", sema:count())
        sema:post(2)
        ngx.sleep(0.01)
        ngx.say("woken: ", table.concat(order, " "), ", count ", sema:count())
        for i = 1, 3 do ngx.thread.wait(threads[i]) end
    }
}
--- request
GET /t
--- response_body
count with 3 waiters: -3
woken: 1 2, count -1
woken: 1 2 3, count 1
--- no_error_log
[error]



=== TEST 5: across two requests of one worker
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> shared_sema.lua
local semaphore = require "ngx.semaphore"
return { sema = semaphore.new(0) }
--- config
location = /post {
    content_by_lua_block {
        local s = require "shared_sema"
        ngx.say("waiters before post: ", -s.sema:count())
        s.sema:post(1)
        ngx.say("posted")
    }
}
location = /t {
    content_by_lua_block {
        local s = require "shared_sema"
        local port = ngx.var.server_port
        local t = ngx.thread.spawn(function()
            ngx.sleep(0.02)
            local c = ngx.socket.tcp()
            assert(c:connect("127.0.0.1", port))
            assert(c:send("GET /post HTTP/1.0\r\nHost: localhost\r\n\r\n"))
            local resp = c:receive("*a")
            return (resp:match("\r\n\r\n(.*)$"))
        end)
        local ok, err = s.sema:wait(2)
        ngx.say("wait: ", ok, " ", err)
        local _, body = ngx.thread.wait(t)
        ngx.print(body)
        ngx.say("count: ", s.sema:count())
    }
}
--- request
GET /t
--- response_body
wait: true nil
waiters before post: 1
posted
count: 0
--- no_error_log
[error]



=== TEST 6: across two requests, the waiter times out first
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> shared_sema.lua
local semaphore = require "ngx.semaphore"
return { sema = semaphore.new(0) }
--- config
location = /wait {
    content_by_lua_block {
        local s = require "shared_sema"
        ngx.say("wait: ", s.sema:wait(0.05))
    }
}
location = /t {
    content_by_lua_block {
        local s = require "shared_sema"
        local c = ngx.socket.tcp()
        assert(c:connect("127.0.0.1", ngx.var.server_port))
        assert(c:send("GET /wait HTTP/1.0\r\nHost: localhost\r\n\r\n"))
        local resp = c:receive("*a")
        ngx.print((resp:match("\r\n\r\n(.*)$")))
        ngx.say("count: ", s.sema:count())
        s.sema:post(1)
        ngx.say("after a post with no waiter: ", s.sema:count())
        assert(s.sema:wait(0))
    }
}
--- request
GET /t
--- response_body
wait: falsetimeout
count: 0
after a post with no waiter: 1
--- no_error_log
[error]



=== TEST 7: a timer posts to a waiting request (a woken wait returns true, nil)
--- config
location = /t {
    content_by_lua_block {
        local semaphore = require "ngx.semaphore"
        local sema = semaphore.new(0)
        assert(ngx.timer.at(0.02, function() sema:post(1) end))
        ngx.say(sema:wait(1))
    }
}
--- request
GET /t
--- response_body
truenil
--- no_error_log
[error]



=== TEST 8: a killed waiter leaves the queue
--- config
location = /t {
    content_by_lua_block {
        local semaphore = require "ngx.semaphore"
        local sema = semaphore.new(0)
        local t = ngx.thread.spawn(function() return sema:wait(1) end)
        ngx.say("waiting: ", sema:count())
        ngx.thread.kill(t)
        ngx.say("after kill: ", sema:count())
        sema:post(1)
        ngx.say("after post: ", sema:count())
    }
}
--- request
GET /t
--- response_body
waiting: -1
after kill: 0
after post: 1
--- no_error_log
[error]



=== TEST 9: a mutex made of a semaphore serialises light threads
--- config
location = /t {
    content_by_lua_block {
        local semaphore = require "ngx.semaphore"
        local mutex = semaphore.new(1)
        local log = {}
        local function critical(name)
            assert(mutex:wait(1))
            log[#log + 1] = name .. " in"
            ngx.sleep(0.01)
            log[#log + 1] = name .. " out"
            mutex:post()
        end
        local a = ngx.thread.spawn(critical, "a")
        local b = ngx.thread.spawn(critical, "b")
        local c = ngx.thread.spawn(critical, "c")
        ngx.thread.wait(a, b, c)
        ngx.thread.wait(b)
        ngx.thread.wait(c)
        ngx.say(table.concat(log, ", "))
    }
}
--- request
GET /t
--- response_body
a in, a out, b in, b out, c in, c out
--- no_error_log
[error]



=== TEST 10: bad arguments
--- config
location = /t {
    content_by_lua_block {
        local semaphore = require "ngx.semaphore"
        local ok, err = pcall(semaphore.new, -1)
        ngx.say(ok, " ", err)
        local sema = semaphore.new(0)
        ok, err = pcall(sema.wait, sema, -1)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body_like
^false .*no negative number
false .*no negative number
$
--- no_error_log
[error]



=== TEST 11: wait where yielding is not possible returns nil and an error
--- config
location = /t {
    set_by_lua_block $res {
        local semaphore = require "ngx.semaphore"
        local sema = semaphore.new(0)
        local res = {pcall(sema.wait, sema, 0.1)}
        for i = 1, 3 do res[i] = tostring(res[i]) end
        return table.concat(res, " ")
    }
    content_by_lua_block {
        ngx.say(ngx.var.res)
    }
}
--- request
GET /t
--- response_body_like
^true nil API disabled in the context of set_by_lua\*$
--- no_error_log
[error]
