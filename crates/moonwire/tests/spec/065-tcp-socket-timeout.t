# Cosocket timeouts: settimeout, settimeouts, the lua_socket_*_timeout
# directives. A read timeout is not fatal (the socket stays usable); connect
# and send timeouts are. $TEST_NGINX_BLACKHOLE_PORT is a local port where
# connecting times out.

=== TEST 1: connect timeout set by settimeout
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeout(100)
        ngx.update_time()
        local t0 = ngx.now()
        local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_BLACKHOLE_PORT)
        ngx.update_time()
        local dt = ngx.now() - t0
        ngx.say("connect: ", ok, " ", err)
        ngx.say("waited about 100ms: ", dt >= 0.09 and dt < 0.5)
        ngx.say("send: ", sock:send("x"))
    }
}
--- request
GET /t
--- response_body
connect: nil timeout
waited about 100ms: true
send: nilclosed
--- error_log
lua tcp socket connect timed out, when connecting to 127.0.0.1:$TEST_NGINX_BLACKHOLE_PORT



=== TEST 2: lua_socket_connect_timeout
--- config
lua_socket_connect_timeout 100ms;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        ngx.say(sock:connect("127.0.0.1", $TEST_NGINX_BLACKHOLE_PORT))
    }
}
--- request
GET /t
--- response_body
niltimeout
--- error_log
lua tcp socket connect timed out



=== TEST 3: settimeout overrides lua_socket_connect_timeout
--- config
lua_socket_connect_timeout 10s;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeout(50)
        ngx.say(sock:connect("127.0.0.1", $TEST_NGINX_BLACKHOLE_PORT))
    }
}
--- request
GET /t
--- timeout: 3
--- response_body
niltimeout
--- error_log
lua tcp socket connect timed out



=== TEST 4: settimeouts sets the connect timeout too
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeouts(100, 5000, 5000)
        ngx.say(sock:connect("127.0.0.1", $TEST_NGINX_BLACKHOLE_PORT))
    }
}
--- request
GET /t
--- response_body
niltimeout
--- error_log
lua tcp socket connect timed out



=== TEST 5: read timeout is not fatal: the socket stays usable
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        sock:settimeout(100)
        assert(sock:send("first\n"))
        local line, err, partial = sock:receive()
        ngx.say("1: ", line, " ", err, " [", partial, "]")
        sock:settimeout(1000)
        line, err = sock:receive()
        ngx.say("2: ", line, " ", err)
        ngx.say("send: ", sock:send("second\n"))
        line, err = sock:receive()
        ngx.say("3: ", line, " ", err)
        ngx.say("close: ", sock:close())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
expect "first\n"
sleep 250ms
send "late reply\n"
expect "second\n"
send "on time\n"
hold
--- response_body
1: nil timeout []
2: late reply nil
send: 7
3: on time nil
close: 1
--- error_log
lua tcp socket read timed out



=== TEST 6: lua_socket_read_timeout
--- config
lua_socket_read_timeout 100ms;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.update_time()
        local t0 = ngx.now()
        ngx.say(sock:receive())
        ngx.update_time()
        local dt = ngx.now() - t0
        ngx.say(dt >= 0.09 and dt < 0.5)
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body
niltimeout
true
--- error_log
lua tcp socket read timed out



=== TEST 7: settimeout overrides lua_socket_read_timeout
--- config
lua_socket_read_timeout 100ms;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        sock:settimeout(500)
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
sleep 200ms
send "in time\n"
hold
--- response_body
in time
--- no_error_log
[error]



=== TEST 8: settimeouts(connect, send, read): the read timeout applies to receive
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeouts(1000, 1000, 100)
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("q\n"))
        ngx.say(sock:receive())
        ngx.say(sock:receive(5))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
expect "q\n"
send "abc"
hold
--- response_body
niltimeoutabc
niltimeout
--- error_log
lua tcp socket read timed out



=== TEST 9: a read timeout hands out what arrived so far (*a and byte counts)
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeout(100)
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local data, err, partial = sock:receive(10)
        ngx.say("n: ", data, " ", err, " [", partial, "]")
        sock:settimeout(400)
        data, err, partial = sock:receive("*a")
        ngx.say("*a: ", data, " ", err, " [", partial, "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "12345"
sleep 200ms
send "67890xyz"
hold
--- response_body
n: nil timeout [12345]
*a: nil timeout [67890xyz]
--- error_log
lua tcp socket read timed out



=== TEST 10: send timeout is fatal (the peer does not read)
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        sock:settimeouts(1000, 100, 1000)
        local big = string.rep("x", 64 * 1024 * 1024)
        local bytes, err = sock:send(big)
        ngx.say("send: ", bytes, " ", err)
        ngx.say("again: ", sock:send("y"))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
sleep 1s
--- response_body
send: nil timeout
again: nilclosed
--- error_log
lua tcp socket write timed out



=== TEST 11: lua_socket_send_timeout
--- config
lua_socket_send_timeout 100ms;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:send(string.rep("x", 64 * 1024 * 1024)))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
sleep 1s
--- response_body
niltimeout
--- error_log
lua tcp socket write timed out



=== TEST 12: lua_socket_log_errors off: no "read timed out" line
--- config
lua_socket_log_errors off;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeout(50)
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body
niltimeout
--- no_error_log
lua tcp socket read timed out
[error]



=== TEST 13: settimeout returns nothing; settimeout(0) falls back to the directive
--- config
lua_socket_read_timeout 100ms;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        ngx.say(select("#", sock:settimeout(10)))
        sock:settimeout(0)
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.update_time()
        local t0 = ngx.now()
        ngx.say(sock:receive())
        ngx.update_time()
        local dt = ngx.now() - t0
        ngx.say(dt >= 0.09 and dt < 0.5)
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body
0
niltimeout
true
--- error_log
lua tcp socket read timed out



=== TEST 14: the timeout counts per operation, not for the whole line
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeout(150)
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 50ms "slowly\n"
hold
--- response_body
slowly
--- no_error_log
[error]



=== TEST 15: timeout arguments: a non-number counts as 0, negative numbers and a wrong count raise errors
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        local ok, err = pcall(sock.settimeout, sock, "abc")
        ngx.say(ok, " ", err)
        ok, err = pcall(sock.settimeout, sock, -1)
        ngx.say(ok, " ", err)
        ok, err = pcall(sock.settimeouts, sock, 1, 2)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body
true nil
false bad timeout value
false ngx.socket settimeout: expecting 4 arguments (including the object) but seen 3
--- no_error_log
[error]
