# tcpsock:receiveuntil(pattern, {inclusive = true}): the boundary is part
# of the data returned.

=== TEST 1: inclusive: the data ends with the pattern
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("\r\n--abc", {inclusive = true})
        local data, err, partial = reader()
        ngx.say("data: [", (data:gsub("\r\n", "CRLF")), "] ", err, " ", partial)
        ngx.say("rest: [", sock:receive("*a"), "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "hello, world\r\n--abcxyz"
close
--- response_body
data: [hello, worldCRLF--abc] nil nil
rest: [xyz]
--- no_error_log
[error]



=== TEST 2: inclusive, one byte at a time, several boundaries
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("--", {inclusive = true})
        for i = 1, 5 do
            local data, err, partial = reader()
            ngx.say(i, ": [", data, "] ", err, " [", partial, "]")
            if not data then break end
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 1ms "a--bb----c-d--tail"
close
--- response_body
1: [a--] nil [nil]
2: [bb--] nil [nil]
3: [--] nil [nil]
4: [c-d--] nil [nil]
5: [nil] closed [tail]
--- no_error_log
[error]



=== TEST 3: inclusive with a size
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("--", {inclusive = true})
        for i = 1, 8 do
            local data, err, partial = reader(2)
            ngx.say(i, ": [", data, "] ", err, " [", partial, "]")
            if err then break end
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "abc--de--"
close
--- response_body
1: [ab] nil [nil]
2: [c--] nil [nil]
3: [nil] nil [nil]
4: [de] nil [nil]
5: [--] nil [nil]
6: [nil] nil [nil]
7: [nil] closed []
--- no_error_log
[error]



=== TEST 4: inclusive with a size, one byte at a time
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("--", {inclusive = true})
        for i = 1, 8 do
            local data, err, partial = reader(2)
            ngx.say(i, ": [", data, "] ", err, " [", partial, "]")
            if err then break end
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 1ms "abc--de--"
close
--- response_body
1: [ab] nil [nil]
2: [c--] nil [nil]
3: [nil] nil [nil]
4: [de] nil [nil]
5: [--] nil [nil]
6: [nil] nil [nil]
7: [nil] closed []
--- no_error_log
[error]



=== TEST 5: inclusive = false is the default behaviour
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("--", {inclusive = false})
        ngx.say("[", reader(), "]")
        ngx.say("[", reader(), "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "one--two--"
close
--- response_body
[one]
[two]
--- no_error_log
[error]



=== TEST 6: inclusive with a partial match that fails first
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("aab", {inclusive = true})
        ngx.say("[", reader(), "]")
        ngx.say("[", sock:receive("*a"), "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 1ms "xaaab-rest"
close
--- response_body
[xaaab]
[-rest]
--- no_error_log
[error]



=== TEST 7: inclusive: a timeout before the boundary
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeout(100)
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("--", {inclusive = true})
        ngx.say(reader())
        sock:settimeout(1000)
        ngx.say(reader())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "abc"
sleep 200ms
send "def--"
hold
--- response_body
niltimeoutabc
def--
--- error_log
lua tcp socket read timed out



=== TEST 8: bad options
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local ok, err = pcall(sock.receiveuntil, sock, "--", {inclusive = "yes"})
        ngx.say(ok, " ", err)
        ok, err = pcall(sock.receiveuntil, sock, "--", "inclusive")
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body_like
^false bad "inclusive" option value type: string
false .*table expected, got string.*
$
--- no_error_log
[error]
