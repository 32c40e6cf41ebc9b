# ngx.thread.wait: results of a thread, errors, the first of several
# threads to finish, and misuse.

=== TEST 1: wait returns true and the thread's return values
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function(a)
            ngx.sleep(0.01)
            return a, "two", 3, nil
        end, "one")
        ngx.say(ngx.thread.wait(t))
        ngx.say(select("#", ngx.thread.wait(t)))
    }
}
--- request
GET /t
--- response_body
trueonetwo3nil
2
--- no_error_log
[error]



=== TEST 2: waiting for a thread that already finished (zombie)
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function() return "done early" end)
        ngx.say(coroutine.status(t))
        ngx.say(ngx.thread.wait(t))
        ngx.say(coroutine.status(t))
    }
}
--- request
GET /t
--- response_body
zombie
truedone early
dead
--- no_error_log
[error]



=== TEST 3: waiting for a thread that failed: false and the error (a string without its position; the log has it)
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            ngx.sleep(0.01)
            error("thread failed")
        end)
        local ok, err = ngx.thread.wait(t)
        ngx.say(ok, " ", err)
        local t2 = ngx.thread.spawn(function()
            ngx.sleep(0.01)
            error({code = 42})
        end)
        local ok2, err2 = ngx.thread.wait(t2)
        ngx.say(ok2, " ", type(err2), " ", type(err2) == "table" and err2.code)
    }
}
--- request
GET /t
--- response_body
false thread failed
false table 42
--- error_log
lua user thread aborted: runtime error: content_by_lua(nginx.conf:
: thread failed
lua user thread aborted: runtime error: unknown reason



=== TEST 4: wait for several threads returns the first to finish
--- config
location = /t {
    content_by_lua_block {
        local slow = ngx.thread.spawn(function() ngx.sleep(0.1) return "slow" end)
        local fast = ngx.thread.spawn(function() ngx.sleep(0.01) return "fast" end)
        ngx.say(ngx.thread.wait(slow, fast))
        ngx.say(ngx.thread.wait(slow))
    }
}
--- request
GET /t
--- response_body
truefast
trueslow
--- no_error_log
[error]



=== TEST 5: wait for several threads, one of them already finished
--- config
location = /t {
    content_by_lua_block {
        local slow = ngx.thread.spawn(function() ngx.sleep(0.05) return "slow" end)
        local done = ngx.thread.spawn(function() return "already done" end)
        ngx.say(ngx.thread.wait(slow, done))
        ngx.say(ngx.thread.wait(slow))
    }
}
--- request
GET /t
--- response_body
truealready done
trueslow
--- no_error_log
[error]



=== TEST 6: a timeout pattern: wait for the worker or a sleeper, kill the other
--- config
location = /t {
    content_by_lua_block {
        local function work(delay)
            ngx.sleep(delay)
            return "work done"
        end
        local function timer(delay)
            ngx.sleep(delay)
            return "timed out"
        end
        for _, d in ipairs({0.01, 0.2}) do
            local w = ngx.thread.spawn(work, d)
            local s = ngx.thread.spawn(timer, 0.05)
            local ok, res = ngx.thread.wait(w, s)
            ngx.say(res)
            ngx.thread.kill(w)
            ngx.thread.kill(s)
        end
    }
}
--- request
GET /t
--- response_body
work done
timed out
--- no_error_log
[error]



=== TEST 7: waiting twice for the same thread
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function() ngx.sleep(0.01) return 1 end)
        ngx.say(ngx.thread.wait(t))
        ngx.say(ngx.thread.wait(t))
    }
}
--- request
GET /t
--- response_body
true1
nilalready waited or killed
--- no_error_log
[error]



=== TEST 8: only the parent can wait for a thread (the error)
--- config
location = /t {
    content_by_lua_block {
        local a = ngx.thread.spawn(function() ngx.sleep(0.05) return "a" end)
        local b = ngx.thread.spawn(function()
            local ok, err = pcall(ngx.thread.wait, a)
            return tostring(ok) .. " " .. tostring(err)
        end)
        ngx.say(select(2, ngx.thread.wait(b)))
        ngx.say(ngx.thread.wait(a))
    }
}
--- request
GET /t
--- response_body_like
^false .*only the parent coroutine can wait on the thread.*
truea
$
--- no_error_log
[error]



=== TEST 9: wait needs at least one thread, and user threads only
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.thread.wait)
        ngx.say(ok, " ", err)
        local co = coroutine.create(function() end)
        ok, err = pcall(ngx.thread.wait, co)
        ngx.say(ok, " ", err)
        ok, err = pcall(ngx.thread.wait, "x")
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body_like
^false .*at least one coroutine should be specified.*
false .*attempt to wait on a coroutine that is not a user thread.*
false .*
$
--- no_error_log
[error]



=== TEST 10: a user thread waits for its own child
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            local c = ngx.thread.spawn(function() ngx.sleep(0.01) return "grandchild" end)
            local ok, v = ngx.thread.wait(c)
            return "child saw " .. v
        end)
        ngx.say(select(2, ngx.thread.wait(t)))
    }
}
--- request
GET /t
--- response_body
child saw grandchild
--- no_error_log
[error]



=== TEST 11: results of a thread doing cosocket I/O
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
            assert(sock:send("question\n"))
            local line = sock:receive()
            sock:close()
            return line, #line
        end)
        ngx.say(ngx.thread.wait(t))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
expect "question\n"
sleep 20ms
send "answer\n"
--- response_body
trueanswer6
--- no_error_log
[error]



=== TEST 12: waiting in a loop for whichever finishes next
--- config
location = /t {
    content_by_lua_block {
        local threads = {}
        for i, d in ipairs({0.09, 0.03, 0.06}) do
            threads[i] = ngx.thread.spawn(function() ngx.sleep(d) return i end)
        end
        local order = {}
        while #threads > 0 do
            local ok, i = ngx.thread.wait(unpack(threads))
            order[#order + 1] = i
            for k, t in ipairs(threads) do
                if coroutine.status(t) == "dead" then
                    table.remove(threads, k)
                    break
                end
            end
        end
        ngx.say(table.concat(order, " "))
    }
}
--- request
GET /t
--- response_body
2 3 1
--- no_error_log
[error]
