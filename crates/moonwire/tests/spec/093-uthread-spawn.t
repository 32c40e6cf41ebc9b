# ngx.thread.spawn: light threads run until their first yield before spawn
# returns; the request ends when every thread is done; errors in a user
# thread do not stop the others; ngx.exit in any thread ends the request.

=== TEST 1: spawn runs the thread until its first yield
--- config
location = /t {
    content_by_lua_block {
        local function f()
            ngx.say("thread: start")
            ngx.sleep(0.01)
            ngx.say("thread: after sleep")
        end
        ngx.say("before spawn")
        local t = ngx.thread.spawn(f)
        ngx.say("after spawn")
    }
}
--- request
GET /t
--- response_body
before spawn
thread: start
after spawn
thread: after sleep
--- no_error_log
[error]



=== TEST 2: a thread that does not yield finishes inside spawn
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function(a, b)
            ngx.say("thread got ", a, " and ", b)
        end, "x", 42)
        ngx.say("type: ", type(t))
        ngx.say("status: ", coroutine.status(t))
    }
}
--- request
GET /t
--- response_body
thread got x and 42
type: thread
status: zombie
--- no_error_log
[error]



=== TEST 3: a thread waiting on I/O reports "running"; "dead" once waited for
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            ngx.sleep(0.01)
        end)
        ngx.say("status: ", coroutine.status(t))
        ngx.thread.wait(t)
        ngx.say("status after wait: ", coroutine.status(t))
    }
}
--- request
GET /t
--- response_body
status: running
status after wait: dead
--- no_error_log
[error]



=== TEST 4: threads interleave at their yields
--- config
location = /t {
    content_by_lua_block {
        local function worker(name, delay, n)
            for i = 1, n do
                ngx.say(name, " ", i)
                ngx.sleep(delay)
            end
        end
        ngx.thread.spawn(worker, "a", 0.05, 3)
        ngx.thread.spawn(worker, "b", 0.075, 2)
        ngx.say("entry done")
    }
}
--- request
GET /t
--- response_body
a 1
b 1
entry done
a 2
b 2
a 3
--- no_error_log
[error]



=== TEST 5: the request waits for every thread, even after the entry thread returned
--- config
location = /t {
    content_by_lua_block {
        ngx.thread.spawn(function()
            ngx.sleep(0.1)
            ngx.say("slow thread done")
        end)
        ngx.say("entry thread returns")
    }
}
--- request
GET /t
--- response_body
entry thread returns
slow thread done
--- no_error_log
[error]



=== TEST 6: threads sleep at the same time
--- config
location = /t {
    content_by_lua_block {
        ngx.update_time()
        local t0 = ngx.now()
        local threads = {}
        for i = 1, 20 do
            threads[i] = ngx.thread.spawn(function() ngx.sleep(0.1) return i end)
        end
        local sum = 0
        for i = 1, 20 do
            local ok, v = ngx.thread.wait(threads[i])
            sum = sum + v
        end
        ngx.update_time()
        local dt = ngx.now() - t0
        ngx.say("sum ", sum, ", in parallel: ", dt < 0.5)
    }
}
--- request
GET /t
--- response_body
sum 210, in parallel: true
--- no_error_log
[error]



=== TEST 7: an error in a user thread is logged and does not stop the others
--- config
location = /t {
    content_by_lua_block {
        ngx.thread.spawn(function()
            ngx.sleep(0.01)
            error("boom")
        end)
        ngx.thread.spawn(function()
            ngx.sleep(0.02)
            ngx.say("other thread still runs")
        end)
        ngx.say("entry done")
    }
}
--- request
GET /t
--- response_body
entry done
other thread still runs
--- error_log
lua user thread aborted: runtime error: content_by_lua(nginx.conf:
boom



=== TEST 8: an error in a user thread before its first yield
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            error("early boom")
        end)
        ngx.say("spawn returned a ", type(t), ", status ", coroutine.status(t))
        ngx.say(ngx.thread.wait(t))
    }
}
--- request
GET /t
--- response_body_like
^spawn returned a thread, status zombie
false.*early boom
$
--- error_log
lua user thread aborted: runtime error



=== TEST 9: ngx.exit in a user thread ends the request and the other threads
--- config
location = /t {
    content_by_lua_block {
        ngx.thread.spawn(function()
            ngx.sleep(0.02)
            ngx.say("thread exits")
            ngx.exit(ngx.OK)
        end)
        ngx.thread.spawn(function()
            ngx.sleep(0.2)
            ngx.say("never printed")
        end)
        ngx.say("entry sleeps")
        ngx.sleep(0.2)
        ngx.say("never printed either")
    }
}
--- request
GET /t
--- response_body
entry sleeps
thread exits
--- no_error_log
[error]



=== TEST 10: ngx.exit in the entry thread ends the user threads
--- config
location = /t {
    content_by_lua_block {
        ngx.thread.spawn(function()
            ngx.sleep(0.1)
            ngx.say("never printed")
        end)
        ngx.say("entry exits")
        ngx.exit(200)
    }
}
--- request
GET /t
--- response_body
entry exits
--- no_error_log
[error]



=== TEST 11: ngx.exit with an error status from a user thread before the headers
--- config
location = /t {
    content_by_lua_block {
        ngx.thread.spawn(function()
            ngx.sleep(0.01)
            ngx.exit(403)
        end)
        ngx.sleep(0.1)
        ngx.say("never printed")
    }
}
--- request
GET /t
--- error_code: 403
--- response_body_like
403 Forbidden
--- no_error_log
[error]



=== TEST 12: an error in the entry thread aborts the request
--- config
location = /t {
    content_by_lua_block {
        ngx.thread.spawn(function()
            ngx.sleep(0.05)
            ngx.log(ngx.ERR, "user thread still running")
        end)
        error("entry boom")
    }
}
--- request
GET /t
--- error_code: 500
--- response_body_like
500 Internal Server Error
--- error_log
entry boom
--- no_error_log
user thread still running



=== TEST 13: nested threads: when the grandchild yields, the entry thread runs before the child resumes
--- config
location = /t {
    content_by_lua_block {
        local outer = ngx.thread.spawn(function()
            ngx.say("outer start")
            local inner = ngx.thread.spawn(function()
                ngx.say("inner start")
                ngx.sleep(0.01)
                ngx.say("inner end")
                return "inner result"
            end)
            ngx.say("outer waits")
            local ok, res = ngx.thread.wait(inner)
            ngx.say("outer got ", res)
            return "outer result"
        end)
        ngx.say("entry waits")
        ngx.say("entry got ", select(2, ngx.thread.wait(outer)))
    }
}
--- request
GET /t
--- response_body
outer start
inner start
entry waits
outer waits
inner end
outer got inner result
entry got outer result
--- no_error_log
[error]



=== TEST 14: coroutine.running in a user thread is the thread object
--- config
location = /t {
    content_by_lua_block {
        local me
        local t = ngx.thread.spawn(function()
            me = coroutine.running()
            ngx.sleep(0.001)
        end)
        ngx.say(me == t)
        ngx.say(coroutine.running() ~= t)
    }
}
--- request
GET /t
--- response_body
true
true
--- no_error_log
[error]



=== TEST 15: spawn needs a function
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.thread.spawn, nil)
        ngx.say(ok, " ", err)
        ok, err = pcall(ngx.thread.spawn, "f")
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body_like
^false .*Lua function expected.*
false .*Lua function expected.*
$
--- no_error_log
[error]



=== TEST 16: two threads talk to the peer at the same time over their own sockets
--- config
location = /t {
    content_by_lua_block {
        local function ask(what)
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
            assert(sock:send(what .. "\n"))
            local line = assert(sock:receive())
            sock:close()
            return line
        end
        local a = ngx.thread.spawn(ask, "alpha")
        local b = ngx.thread.spawn(ask, "beta")
        ngx.say(select(2, ngx.thread.wait(a)))
        ngx.say(select(2, ngx.thread.wait(b)))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
alpha
beta
--- no_error_log
[error]



=== TEST 17: one thread reads while another writes on the same socket
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = ngx.thread.spawn(function()
            local lines = {}
            for i = 1, 3 do
                lines[i] = assert(sock:receive())
            end
            return table.concat(lines, ",")
        end)
        local writer = ngx.thread.spawn(function()
            for i = 1, 3 do
                assert(sock:send("line " .. i .. "\n"))
                ngx.sleep(0.01)
            end
        end)
        ngx.thread.wait(writer)
        ngx.say(select(2, ngx.thread.wait(reader)))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
line 1,line 2,line 3
--- no_error_log
[error]



=== TEST 18: two threads reading the same socket: "socket busy reading"
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeout(200)
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local a = ngx.thread.spawn(function() return sock:receive() end)
        local b = ngx.thread.spawn(function() return sock:receive() end)
        ngx.say("b: ", select(2, ngx.thread.wait(b)))
        assert(sock:send("go\n"))
        ngx.say("a: ", select(2, ngx.thread.wait(a)))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
b: nilsocket busy reading
a: go
--- no_error_log
[error]



=== TEST 19: light threads in rewrite_by_lua and access_by_lua
--- config
location = /t {
    rewrite_by_lua_block {
        local t = ngx.thread.spawn(function() ngx.sleep(0.01) return "rewrite" end)
        ngx.ctx.r = select(2, ngx.thread.wait(t))
    }
    access_by_lua_block {
        local t = ngx.thread.spawn(function() ngx.sleep(0.01) return "access" end)
        ngx.ctx.a = select(2, ngx.thread.wait(t))
    }
    content_by_lua_block {
        ngx.say(ngx.ctx.r, " ", ngx.ctx.a)
    }
}
--- request
GET /t
--- response_body
rewrite access
--- no_error_log
[error]



=== TEST 20: a user thread left running in rewrite_by_lua delays the next phase
--- config
location = /t {
    rewrite_by_lua_block {
        ngx.thread.spawn(function()
            ngx.sleep(0.05)
            ngx.ctx.done = "thread finished"
        end)
    }
    content_by_lua_block {
        ngx.say(ngx.ctx.done)
    }
}
--- request
GET /t
--- response_body
thread finished
--- no_error_log
[error]



=== TEST 21: cosockets are cleaned up when a user thread ends with them open
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
            assert(sock:send("thread was here\n"))
        end)
        ngx.thread.wait(t)
        ngx.say("done")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
expect "thread was here\n"
read_to_eof
--- tcp_done
--- response_body
done
--- no_error_log
[error]
