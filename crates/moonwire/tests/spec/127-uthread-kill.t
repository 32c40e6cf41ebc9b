# ngx.thread.kill: killing a sleeping thread, a thread blocked on a
# cosocket, a finished thread; misuse.

=== TEST 1: kill a sleeping thread: it never resumes; kill returns 1
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            ngx.say("thread sleeps")
            ngx.sleep(0.05)
            ngx.say("never printed")
        end)
        ngx.say("kill: ", ngx.thread.kill(t))
        ngx.say("status: ", coroutine.status(t))
        ngx.sleep(0.1)
        ngx.say("entry done")
    }
}
--- request
GET /t
--- response_body
thread sleeps
kill: 1
status: dead
entry done
--- no_error_log
[error]



=== TEST 2: kill twice; wait after kill
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function() ngx.sleep(1) end)
        ngx.say(ngx.thread.kill(t))
        ngx.say(ngx.thread.kill(t))
        ngx.say(ngx.thread.wait(t))
    }
}
--- request
GET /t
--- response_body
1
nilalready waited or killed
nilalready waited or killed
--- no_error_log
[error]



=== TEST 3: kill a thread that already finished (zombie): "already terminated", and its results are gone
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function() return "finished" end)
        ngx.say(coroutine.status(t))
        ngx.say(ngx.thread.kill(t))
        ngx.say(ngx.thread.wait(t))
    }
}
--- request
GET /t
--- response_body
zombie
nilalready terminated
nilalready waited or killed
--- no_error_log
[error]



=== TEST 4: kill a thread after waiting for it
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function() ngx.sleep(0.01) return "x" end)
        ngx.say(ngx.thread.wait(t))
        ngx.say(ngx.thread.kill(t))
    }
}
--- request
GET /t
--- response_body
truex
nilalready waited or killed
--- no_error_log
[error]



=== TEST 5: kill a thread blocked reading a cosocket; the socket is closed
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
            assert(sock:send("waiting\n"))
            local line = sock:receive()
            ngx.say("never printed: ", line)
        end)
        ngx.sleep(0.05)
        ngx.say("kill: ", ngx.thread.kill(t))
        ngx.sleep(0.05)
        ngx.say("entry done")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
expect "waiting\n"
read_to_eof
--- tcp_done
--- response_body
kill: 1
entry done
--- no_error_log
[error]



=== TEST 6: kill a thread that is connecting
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            local sock = ngx.socket.tcp()
            sock:settimeout(1000)
            local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_BLACKHOLE_PORT)
            ngx.say("never printed: ", ok, err)
        end)
        ngx.sleep(0.02)
        ngx.say("kill: ", ngx.thread.kill(t))
    }
}
--- request
GET /t
--- response_body
kill: 1
--- no_error_log
[error]



=== TEST 7: only the parent can kill a thread (the message)
--- config
location = /t {
    content_by_lua_block {
        local a = ngx.thread.spawn(function() ngx.sleep(0.05) return "a lives" end)
        local b = ngx.thread.spawn(function()
            local ok, err = ngx.thread.kill(a)
            return tostring(ok) .. " " .. tostring(err)
        end)
        ngx.say(select(2, ngx.thread.wait(b)))
        ngx.say(ngx.thread.wait(a))
    }
}
--- request
GET /t
--- response_body
nil killer not parent
truea lives
--- no_error_log
[error]



=== TEST 8: kill needs a user thread
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.create(function() end)
        ngx.say(ngx.thread.kill(co))
        local ok, err = pcall(ngx.thread.kill)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body_like
^nilnot user thread
false .*
$
--- no_error_log
[error]



=== TEST 9: a killed thread does not hold the request
--- config
location = /t {
    content_by_lua_block {
        ngx.update_time()
        local t0 = ngx.now()
        local t = ngx.thread.spawn(function() ngx.sleep(5) end)
        ngx.thread.kill(t)
        ngx.update_time()
        ngx.say("fast: ", ngx.now() - t0 < 1)
    }
}
--- request
GET /t
--- response_body
fast: true
--- no_error_log
[error]



=== TEST 10: kill a thread waiting for a subrequest: "pending subrequests"
--- config
location = /sub {
    content_by_lua_block {
        ngx.sleep(0.05)
        ngx.print("sub done")
    }
}
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            local res = ngx.location.capture("/sub")
            return res.body
        end)
        ngx.say(ngx.thread.kill(t))
        ngx.say(ngx.thread.wait(t))
    }
}
--- request
GET /t
--- response_body
nilpending subrequests
truesub done
--- no_error_log
[error]
