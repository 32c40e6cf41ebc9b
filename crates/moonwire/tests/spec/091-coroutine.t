# Wrapped coroutine.*: user coroutines that do I/O (ngx.sleep, cosocket
# reads) inside; resume/yield/wrap/status semantics stay those of Lua.

=== TEST 1: a generator with coroutine.wrap that sleeps between values
--- config
location = /t {
    content_by_lua_block {
        local gen = coroutine.wrap(function()
            for i = 1, 3 do
                ngx.sleep(0.01)
                coroutine.yield(i)
            end
            return "end"
        end)
        for i = 1, 4 do
            ngx.say(gen())
        end
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



=== TEST 2: resume blocks while the coroutine waits on I/O, until it yields itself
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.create(function(a)
            ngx.say("co got ", a)
            ngx.sleep(0.02)
            ngx.say("co after sleep")
            local b = coroutine.yield("first")
            ngx.say("co got ", b)
            ngx.sleep(0.01)
            return "last"
        end)
        ngx.say("resume 1: ", select(2, coroutine.resume(co, "A")))
        ngx.say("status: ", coroutine.status(co))
        ngx.say("resume 2: ", select(2, coroutine.resume(co, "B")))
        ngx.say("status: ", coroutine.status(co))
        ngx.say("resume 3: ", coroutine.resume(co))
    }
}
--- request
GET /t
--- response_body
co got A
co after sleep
resume 1: first
status: suspended
co got B
resume 2: last
status: dead
resume 3: falsecannot resume dead coroutine
--- no_error_log
[error]



=== TEST 3: a line reader over a cosocket as a coroutine iterator
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("lines please\n"))
        local lines = coroutine.wrap(function()
            while true do
                local line, err = sock:receive()
                if not line then
                    return
                end
                coroutine.yield(line)
            end
        end)
        for line in lines do
            ngx.say("got: ", line)
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
expect "lines please\n"
send_bytewise 1ms "one\ntwo\n"
sleep 20ms
send "three\n"
close
--- response_body
got: one
got: two
got: three
--- no_error_log
[error]



=== TEST 4: a body reader in the style of lua-resty-http (receive(n) in a wrapped coroutine)
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local function body_reader(sock, len, chunk)
            return coroutine.wrap(function(max)
                local left = len
                while left > 0 do
                    local n = math.min(left, max or chunk)
                    local data, err = sock:receive(n)
                    if not data then
                        coroutine.yield(nil, err)
                        return
                    end
                    left = left - #data
                    coroutine.yield(data)
                end
            end)
        end
        local reader = body_reader(sock, 11, 4)
        local parts = {}
        repeat
            local data, err = reader()
            if data then parts[#parts + 1] = "[" .. data .. "]" end
        until not data
        ngx.say(table.concat(parts))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 2ms "hello world"
hold
--- response_body
[hell][o wo][rld]
--- no_error_log
[error]



=== TEST 5: coroutine.status from inside and outside
--- config
location = /t {
    content_by_lua_block {
        local outer
        local inner = coroutine.create(function()
            ngx.say("inside inner, outer is ", coroutine.status(outer))
            ngx.sleep(0.001)
            ngx.say("inside inner, inner is ", coroutine.status(coroutine.running()))
        end)
        outer = coroutine.create(function()
            coroutine.resume(inner)
        end)
        ngx.say("before: ", coroutine.status(outer))
        coroutine.resume(outer)
        ngx.say("after: ", coroutine.status(outer), " ", coroutine.status(inner))
    }
}
--- request
GET /t
--- response_body
before: suspended
inside inner, outer is normal
inside inner, inner is running
after: dead dead
--- no_error_log
[error]



=== TEST 6: an error in a coroutine is returned by resume
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.create(function()
            ngx.sleep(0.001)
            error("in co")
        end)
        local ok, err = coroutine.resume(co)
        ngx.say(ok, " ", err)
        ngx.say(coroutine.status(co))
    }
}
--- request
GET /t
--- response_body_like
^false content_by_lua\(nginx\.conf:\d+\):\d+: in co
dead
$
--- no_error_log
[error]



=== TEST 7: an error in a wrapped coroutine (after it did I/O) is not caught by pcall: the request fails
--- config
location = /t {
    content_by_lua_block {
        local f = coroutine.wrap(function()
            ngx.sleep(0.001)
            error("in wrap")
        end)
        local ok, err = pcall(f)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- error_code: 500
--- response_body_like
500 Internal Server Error
--- error_log
lua entry thread aborted: runtime error: content_by_lua(nginx.conf:
: in wrap



=== TEST 8: an error in a wrapped coroutine that did no I/O
--- config
location = /t {
    content_by_lua_block {
        local f = coroutine.wrap(function()
            error("in wrap, no io")
        end)
        local ok, err = pcall(f)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- error_code: 500
--- response_body_like
500 Internal Server Error
--- error_log
in wrap, no io



=== TEST 9: yield inside pcall inside a coroutine, with I/O
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.wrap(function()
            local ok, v = pcall(function()
                ngx.sleep(0.001)
                local got = coroutine.yield("from pcall")
                ngx.sleep(0.001)
                return got * 2
            end)
            return tostring(ok) .. " " .. tostring(v)
        end)
        ngx.say(co())
        ngx.say(co(21))
    }
}
--- request
GET /t
--- response_body
from pcall
true 42
--- no_error_log
[error]



=== TEST 10: nested coroutines, each sleeping
--- config
location = /t {
    content_by_lua_block {
        local function level(n)
            return coroutine.wrap(function()
                ngx.sleep(0.005)
                if n > 0 then
                    local inner = level(n - 1)
                    coroutine.yield("level " .. n .. " sees " .. inner())
                else
                    coroutine.yield("bottom")
                end
            end)
        end
        ngx.say(level(3)())
    }
}
--- request
GET /t
--- response_body
level 3 sees level 2 sees level 1 sees bottom
--- no_error_log
[error]



=== TEST 11: coroutine.running in the handler is a coroutine
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.running()
        ngx.say(type(co), " ", coroutine.status(co))
    }
}
--- request
GET /t
--- response_body
thread running
--- no_error_log
[error]



=== TEST 12: coroutines inside a light thread
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            local gen = coroutine.wrap(function()
                for i = 1, 3 do
                    ngx.sleep(0.005)
                    coroutine.yield(i * 10)
                end
            end)
            return gen() + gen() + gen()
        end)
        ngx.say("spawned")
        ngx.say(select(2, ngx.thread.wait(t)))
    }
}
--- request
GET /t
--- response_body
spawned
60
--- no_error_log
[error]



=== TEST 13: two coroutines driven alternately, each reading its own socket
--- config
location = /t {
    content_by_lua_block {
        local function reader(tag)
            return coroutine.wrap(function()
                local sock = ngx.socket.tcp()
                assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
                assert(sock:send(tag .. "1\n" .. tag .. "2\n"))
                coroutine.yield(sock:receive())
                coroutine.yield(sock:receive())
                sock:close()
            end)
        end
        local a, b = reader("a"), reader("b")
        ngx.say(a(), " ", b(), " ", a(), " ", b())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
a1 b1 a2 b2
--- no_error_log
[error]



=== TEST 14: yielding from a table.sort comparator fails (C call boundary)
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.create(function()
            local t = {3, 1, 2}
            table.sort(t, function(a, b)
                coroutine.yield()
                return a < b
            end)
        end)
        local ok, err = coroutine.resume(co)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body_like
^false .*attempt to yield across C-call boundary
$
--- no_error_log
[error]



=== TEST 15: ngx.exit inside a user coroutine ends the request
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.wrap(function()
            ngx.say("in coroutine")
            ngx.sleep(0.001)
            ngx.exit(ngx.OK)
        end)
        co()
        ngx.say("never printed")
    }
}
--- request
GET /t
--- response_body
in coroutine
--- no_error_log
[error]



=== TEST 16: a coroutine yielding many times with I/O in between
--- config
location = /t {
    content_by_lua_block {
        local co = coroutine.wrap(function()
            local i = 0
            while true do
                i = i + 1
                if i % 100 == 0 then ngx.sleep(0) end
                coroutine.yield(i)
            end
        end)
        local sum = 0
        for _ = 1, 1000 do sum = sum + co() end
        ngx.say(sum)
    }
}
--- request
GET /t
--- response_body
500500
--- no_error_log
[error]



=== TEST 17: coroutines in rewrite_by_lua and access_by_lua
--- config
location = /t {
    rewrite_by_lua_block {
        local f = coroutine.wrap(function() ngx.sleep(0.001) coroutine.yield("rw") end)
        ngx.ctx.r = f()
    }
    access_by_lua_block {
        local f = coroutine.wrap(function() ngx.sleep(0.001) coroutine.yield("acc") end)
        ngx.ctx.a = f()
    }
    content_by_lua_block {
        ngx.say(ngx.ctx.r, " ", ngx.ctx.a)
    }
}
--- request
GET /t
--- response_body
rw acc
--- no_error_log
[error]



=== TEST 18: plain coroutines work in header_filter_by_lua (no I/O)
--- config
location = /t {
    header_filter_by_lua_block {
        local f = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
        local x = f(1)
        ngx.header["X-Co"] = x .. "," .. f(5)
    }
    content_by_lua_block {
        ngx.say("body")
    }
}
--- request
GET /t
--- response_headers
X-Co: 2,10
--- response_body
body
--- no_error_log
[error]
