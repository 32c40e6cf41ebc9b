# The cosocket connection pool: setkeepalive, getreusedtimes, pool keys and
# names, pool sizes and eviction, idle timeouts, "connection in dubious
# state", the pool_size/backlog connect options. The peer is the runner's
# line echo (echo_lines): what one connection received (--- tcp_query is
# checked against the FIRST connection of the run) shows which requests
# went over the same connection.

=== TEST 1: setkeepalive, then connect again reuses the connection
--- config
location = /t {
    content_by_lua_block {
        for i = 1, 3 do
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
            ngx.say(i, ": reused ", sock:getreusedtimes())
            assert(sock:send("req " .. i .. "\n"))
            ngx.say(i, ": ", sock:receive())
            ngx.say(i, ": keepalive ", sock:setkeepalive())
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- tcp_query
req 1
req 2
req 3
--- response_body
1: reused 0
1: req 1
1: keepalive 1
2: reused 1
2: req 2
2: keepalive 1
3: reused 2
3: req 3
3: keepalive 1
--- no_error_log
[error]



=== TEST 2: the same socket object can take a pooled connection again
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        for i = 1, 2 do
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
            ngx.say(i, ": reused ", sock:getreusedtimes())
            assert(sock:send("x\n"))
            assert(sock:receive())
            ngx.say(i, ": keepalive ", sock:setkeepalive())
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- tcp_query
x
x
--- response_body
1: reused 0
1: keepalive 1
2: reused 1
2: keepalive 1
--- no_error_log
[error]



=== TEST 3: after setkeepalive the object is closed
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:setkeepalive())
        ngx.say(sock:setkeepalive())
        ngx.say(sock:getreusedtimes())
        ngx.say(sock:close())
        ngx.say(sock:send("x"))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
1
nilclosed
nilclosed
nilclosed
nilclosed
--- error_log
attempt to send data on a closed socket



=== TEST 4: data left in the socket's buffer: "unread data in buffer", the socket stays usable
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("two lines please\n"))
        ngx.say(sock:receive())
        ngx.sleep(0.05)
        ngx.say(sock:setkeepalive())
        ngx.say(sock:receive())
        ngx.say(sock:setkeepalive())
        local sock2 = ngx.socket.tcp()
        assert(sock2:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say("reused: ", sock2:getreusedtimes())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
read_line
send "line 1\nline 2\n"
hold
--- response_body
line 1
nilunread data in buffer
line 2
1
reused: 1
--- no_error_log
[error]



=== TEST 5: data that arrived after the last read: "connection in dubious state", the socket is closed
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("one line please\n"))
        ngx.say(sock:receive())
        ngx.sleep(0.1)
        ngx.say(sock:setkeepalive())
        ngx.say(sock:receive())
        local sock2 = ngx.socket.tcp()
        assert(sock2:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say("reused: ", sock2:getreusedtimes())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
read_line
send "line 1\n"
sleep 30ms
send "unexpected\n"
hold
--- response_body
line 1
nilconnection in dubious state
nilclosed
reused: 0



=== TEST 6: the pool option names the pool
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool = "mine"}))
        assert(sock:send("in pool mine\n"))
        assert(sock:receive())
        assert(sock:setkeepalive())

        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say("default pool: ", sock:getreusedtimes())
        sock:close()

        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool = "other"}))
        ngx.say("pool other: ", sock:getreusedtimes())
        sock:close()

        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool = "mine"}))
        ngx.say("pool mine: ", sock:getreusedtimes())
        assert(sock:send("again\n"))
        ngx.say(sock:receive())
        sock:close()
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- tcp_query
in pool mine
again
--- response_body
default pool: 0
pool other: 0
pool mine: 1
again
--- no_error_log
[error]



=== TEST 7: a pool named after another host:port is that pool
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool = "some name"}))
        assert(sock:setkeepalive())
        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool = "some name"}))
        ngx.say(sock:getreusedtimes())
        assert(sock:setkeepalive())
        -- the default pool key is "host:port"
        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:getreusedtimes())
        assert(sock:setkeepalive())
        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool = "127.0.0.1:$TEST_NGINX_TCP_PORT"}))
        ngx.say(sock:getreusedtimes())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body
1
0
1
--- no_error_log
[error]



=== TEST 8: pool size 1: the older idle connection is closed when another comes in
--- config
location = /t {
    content_by_lua_block {
        local a = ngx.socket.tcp()
        local b = ngx.socket.tcp()
        assert(a:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(b:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(a:send("from a\n"))
        assert(a:receive())
        assert(b:send("from b\n"))
        assert(b:receive())
        ngx.say(a:setkeepalive(0, 1))
        ngx.say(b:setkeepalive(0, 1))
        local c = ngx.socket.tcp()
        assert(c:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say("c reused: ", c:getreusedtimes())
        assert(c:send("from c\n"))
        ngx.say(c:receive())
        local d = ngx.socket.tcp()
        assert(d:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say("d reused: ", d:getreusedtimes())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- tcp_query
from a
--- response_body
1
1
c reused: 1
from c
d reused: 0
--- no_error_log
[error]



=== TEST 9: lua_socket_pool_size
--- config
lua_socket_pool_size 1;
location = /t {
    content_by_lua_block {
        local socks = {}
        for i = 1, 3 do
            socks[i] = ngx.socket.tcp()
            assert(socks[i]:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        end
        for i = 1, 3 do
            assert(socks[i]:setkeepalive())
        end
        local reused = {}
        for i = 1, 3 do
            local s = ngx.socket.tcp()
            assert(s:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
            reused[i] = s:getreusedtimes()
            socks[i] = s
        end
        ngx.say(table.concat(reused, " "))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body
1 0 0
--- no_error_log
[error]



=== TEST 10: the idle timeout closes a pooled connection
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("first\n"))
        assert(sock:receive())
        ngx.say(sock:setkeepalive(50))
        ngx.sleep(0.2)
        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say("reused: ", sock:getreusedtimes())
        assert(sock:send("second\n"))
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- tcp_query
first
--- response_body
1
reused: 0
second
--- no_error_log
[error]



=== TEST 11: lua_socket_keepalive_timeout
--- config
lua_socket_keepalive_timeout 50ms;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:setkeepalive())
        ngx.sleep(0.2)
        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say("reused: ", sock:getreusedtimes())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
read_to_eof
--- response_body
reused: 0
--- no_error_log
[error]



=== TEST 12: setkeepalive(0) keeps the connection with no idle timeout
--- config
lua_socket_keepalive_timeout 50ms;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:setkeepalive(0))
        ngx.sleep(0.2)
        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say("reused: ", sock:getreusedtimes())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body
reused: 1
--- no_error_log
[error]



=== TEST 13: the peer closes an idle pooled connection: the pool drops it
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("hello\n"))
        ngx.say(sock:receive())
        ngx.say(sock:setkeepalive())
        ngx.sleep(0.15)
        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say("reused: ", sock:getreusedtimes())
        assert(sock:send("hello again\n"))
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
read_line
send "hi\n"
sleep 50ms
close
--- response_body
hi
1
reused: 0
hi
--- no_error_log
[error]



=== TEST 14: a pooled connection is shared by the requests of a worker
--- config
location = /put {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool = "shared"}))
        assert(sock:send("from /put\n"))
        assert(sock:receive())
        ngx.say("put: ", sock:setkeepalive())
    }
}
location = /t {
    content_by_lua_block {
        local c = ngx.socket.tcp()
        assert(c:connect("127.0.0.1", ngx.var.server_port))
        assert(c:send("GET /put HTTP/1.0\r\nHost: localhost\r\n\r\n"))
        local resp = c:receive("*a")
        ngx.print((resp:match("\r\n\r\n(.*)$")))
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool = "shared"}))
        ngx.say("reused: ", sock:getreusedtimes())
        assert(sock:send("from /t\n"))
        ngx.say(sock:receive())
        sock:close()
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- tcp_query
from /put
from /t
--- response_body
put: 1
reused: 1
from /t
--- no_error_log
[error]



=== TEST 15: a connection is not put back after a read error
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:receive())
        ngx.say(sock:setkeepalive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "partial"
close
--- response_body
nilclosedpartial
nilclosed
--- no_error_log
[error]



=== TEST 16: setkeepalive after a read timeout
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeout(50)
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:receive())
        ngx.say(sock:setkeepalive())
        sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say("reused: ", sock:getreusedtimes())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body
niltimeout
1
reused: 1
--- error_log
lua tcp socket read timed out



=== TEST 17: connect options pool_size and backlog: a second connect beyond the size fails at once with backlog 0
--- config
location = /t {
    content_by_lua_block {
        local a = ngx.socket.tcp()
        ngx.say("a: ", a:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool_size = 1, backlog = 0}))
        local b = ngx.socket.tcp()
        ngx.say("b: ", b:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool_size = 1, backlog = 0}))
        ngx.say("a keepalive: ", a:setkeepalive())
        local c = ngx.socket.tcp()
        ngx.say("c: ", c:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, {pool_size = 1, backlog = 0}))
        ngx.say("c reused: ", c:getreusedtimes())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body
a: 1
b: niltoo many waiting connect operations
a keepalive: 1
c: 1
c reused: 1
--- no_error_log
[error]



=== TEST 18: backlog: a queued connect gets the connection its holder puts back
--- config
location = /t {
    content_by_lua_block {
        local opts = {pool = "bl", pool_size = 1, backlog = 1}
        local a = ngx.socket.tcp()
        assert(a:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, opts))
        assert(a:send("a\n"))
        assert(a:receive())
        local th = ngx.thread.spawn(function()
            local b = ngx.socket.tcp()
            local ok, err = b:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, opts)
            ngx.say("b connect: ", ok, " ", err, " reused ", b:getreusedtimes())
            assert(b:send("b\n"))
            ngx.say("b: ", b:receive())
            b:close()
        end)
        ngx.say("spawned")
        ngx.sleep(0.05)
        ngx.say("a keepalive: ", a:setkeepalive())
        assert(ngx.thread.wait(th))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- tcp_query
a
b
--- response_body
spawned
a keepalive: 1
b connect: 1 nil reused 1
b: b
--- no_error_log
[error]



=== TEST 19: backlog: a queued connect times out after the connect timeout
--- config
location = /t {
    content_by_lua_block {
        local opts = {pool = "bl2", pool_size = 1, backlog = 1}
        local a = ngx.socket.tcp()
        assert(a:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, opts))
        local b = ngx.socket.tcp()
        b:settimeout(100)
        ngx.say("b: ", b:connect("127.0.0.1", $TEST_NGINX_TCP_PORT, opts))
        a:close()
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body
b: niltimeout
--- error_log
lua tcp socket queued connect timed out, when trying to connect to 127.0.0.1:$TEST_NGINX_TCP_PORT



=== TEST 20: bad connect options
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        local ok, err = pcall(sock.connect, sock, "127.0.0.1", $TEST_NGINX_TCP_PORT, {pool_size = 0})
        ngx.say(ok, " ", err)
        ok, err = pcall(sock.connect, sock, "127.0.0.1", $TEST_NGINX_TCP_PORT, {backlog = -1})
        ngx.say(ok, " ", err)
        -- a number is taken as the pool name
        ok, err = pcall(sock.connect, sock, "127.0.0.1", $TEST_NGINX_TCP_PORT, {pool = 3})
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body_like
^false .*bad "pool_size" option value: 0.*
false .*bad "backlog" option value: -1.*
true 1
$
--- no_error_log
[error]



=== TEST 21: setkeepalive with a bad pool size
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local ok, err = pcall(sock.setkeepalive, sock, 0, 0)
        ngx.say(ok, " ", err)
        ngx.say(sock:setkeepalive(0, 1))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body_like
^false .*bad "pool_size" option value: 0.*
1
$
--- no_error_log
[error]



=== TEST 22: unix-domain connections are pooled by path
--- config
location = /t {
    content_by_lua_block {
        for i = 1, 2 do
            local sock = ngx.socket.tcp()
            assert(sock:connect("unix:$TEST_NGINX_TCP_SOCKET"))
            ngx.say(i, ": reused ", sock:getreusedtimes())
            assert(sock:send("u" .. i .. "\n"))
            ngx.say(i, ": ", sock:receive())
            assert(sock:setkeepalive())
        end
        local sock = ngx.socket.tcp()
        assert(sock:connect("unix:$TEST_NGINX_TCP_SOCKET", {pool = "other"}))
        ngx.say("other pool: reused ", sock:getreusedtimes())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_SOCKET
--- tcp_script
echo_lines
--- tcp_query
u1
u2
--- response_body
1: reused 0
1: u1
2: reused 1
2: u2
other pool: reused 0
--- no_error_log
[error]
