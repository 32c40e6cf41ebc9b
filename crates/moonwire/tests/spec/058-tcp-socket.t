# ngx.socket.tcp: connect, send, receive (*l, *a, byte counts), partial
# results, close, and the errors: connection refused, closed, timeout,
# a socket used by another request ("bad request").
#
# The peer is the runner's scripted TCP peer (--- tcp_listen, see spec.rs),
# on $TEST_NGINX_TCP_PORT. Port 1 on 127.0.0.1 is assumed closed.

=== TEST 1: connect, send a line, receive a line
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        local ok, err = sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT)
        ngx.say("connect: ", ok, " ", err)
        local bytes, err = sock:send("ping\n")
        ngx.say("send: ", bytes, " ", err)
        local line, err, partial = sock:receive()
        ngx.say("receive: ", line, " ", err, " ", partial)
        ngx.say("close: ", sock:close())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_query
ping
--- tcp_reply
pong
--- response_body
connect: 1 nil
send: 5 nil
receive: pong nil nil
close: 1
--- no_error_log
[error]



=== TEST 2: *l strips the LF, an optional CR before it and every other CR
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("go\n"))
        for i = 1, 4 do
            local line, err, partial = sock:receive("*l")
            ngx.say(i, ": [", line, "] ", err, " [", partial, "]")
        end
        sock:close()
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_query_len: 3
--- tcp_reply eval
"first\r\nse\rcond\n\nlast"
--- response_body
1: [first] nil [nil]
2: [second] nil [nil]
3: [] nil [nil]
4: [nil] closed [last]
--- no_error_log
[error]



=== TEST 3: receive() with no argument reads a line
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("x"))
        ngx.say(sock:receive())
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_query: x
--- tcp_reply eval
"hello\r\nworld\n"
--- response_body
hello
world
--- no_error_log
[error]



=== TEST 4: receive(n) returns exactly n bytes; a numeric string works too
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("x"))
        ngx.say("[", sock:receive(3), "]")
        local four = sock:receive("4")
        ngx.say("[", (four:gsub("\r", "CR"):gsub("\n", "LF")), "]")
        ngx.say("[", sock:receive(1), "]")
        ngx.say("[", sock:receive(0), "]")
        local data, err, partial = sock:receive(10)
        ngx.say(data, " ", err, " [", partial, "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_query: x
--- tcp_reply eval
"abc\r\nefghij"
--- response_body
[abc]
[CRLFef]
[g]
[]
nil closed [hij]
--- no_error_log
[error]



=== TEST 5: receive("*a") reads until the peer closes
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("x"))
        local line = sock:receive()
        local data, err, partial = sock:receive("*a")
        ngx.say("line: ", line)
        ngx.say("all: [", data, "] ", err, " ", partial)
        -- at EOF, *a keeps giving an empty string (not an error)
        data, err, partial = sock:receive("*a")
        ngx.say("again: [", data, "] ", err, " ", partial)
        ngx.say("line: ", sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_query: x
--- tcp_reply eval
"status\nbody line 1\nbody line 2\n"
--- response_body
line: status
all: [body line 1
body line 2
] nil nil
again: [] nil nil
line: nilclosed
--- no_error_log
[error]



=== TEST 6: *a on a connection closed right away gives an empty string
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local data, err = sock:receive("*a")
        ngx.say("[", data, "] ", err)
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
close
--- response_body
[] nil
--- no_error_log
[error]



=== TEST 7: the peer closes in the middle of a line: nil, "closed", partial
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local line, err, partial = sock:receive()
        ngx.say(line, " ", err, " [", partial, "]")
        line, err, partial = sock:receive()
        ngx.say(line, " ", err, " [", partial, "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "no newline here"
close
--- response_body
nil closed [no newline here]
nil closed [nil]
--- error_log
attempt to receive data on a closed socket



=== TEST 8: send accepts numbers and (nested) array tables
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:send({"GET", " ", {"/", "x", {"?a=", 1}}, " ", 3.5, "\n"}))
        ngx.say(sock:send(42))
        ngx.say(sock:send(""))
        ngx.say(sock:send({}))
        ngx.say(sock:send("\n"))
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
expect "GET /x?a=1 3.5\n42\n"
send "done\n"
--- response_body
15
2
0
0
1
done
--- no_error_log
[error]



=== TEST 9: nil and booleans are sent as text; other types raise an error
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:send(nil))
        ngx.say(sock:send(true))
        ngx.say(sock:send(false))
        local ok, err = pcall(sock.send, sock, {true})
        ngx.say(ok, " ", err)
        ok, err = pcall(sock.send, sock, print)
        ngx.say(ok, " ", err)
        ok, err = pcall(sock.send, sock, {a = 1})
        ngx.say(ok, " ", err)
        assert(sock:send("\n"))
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
expect "niltruefalse\n"
send "received\n"
--- response_body_like
^3
4
5
false .*bad data type boolean found.*
false .*string, number, boolean, nil, or array table expected, got function.*
false .*(bad data type|non-array table found).*
received
$
--- no_error_log
[error]



=== TEST 10: connection refused
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        local ok, err = sock:connect("127.0.0.1", 1)
        ngx.say("connect: ", ok, " ", err)
        local bytes, err = sock:send("hello")
        ngx.say("send: ", bytes, " ", err)
        local line, err = sock:receive()
        ngx.say("receive: ", line, " ", err)
        ngx.say("close: ", sock:close())
    }
}
--- request
GET /t
--- response_body
connect: nil connection refused
send: nil closed
receive: nil closed
close: nilclosed
--- error_log
connect() failed (111: Connection refused)
attempt to send data on a closed socket
attempt to receive data on a closed socket



=== TEST 11: lua_socket_log_errors off keeps connect failures out of the log
--- config
lua_socket_log_errors off;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        ngx.say(sock:connect("127.0.0.1", 1))
    }
}
--- request
GET /t
--- response_body
nilconnection refused
--- no_error_log
[error]
Connection refused



=== TEST 12: operations on a socket that never connected
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        ngx.say(sock:send("x"))
        ngx.say(sock:receive())
        ngx.say(sock:close())
        ngx.say(sock:getreusedtimes())
        ngx.say(sock:setkeepalive())
    }
}
--- request
GET /t
--- response_body
nilclosed
nilclosed
nilclosed
nilclosed
nilclosed
--- error_log
attempt to send data on a closed socket
attempt to receive data on a closed socket



=== TEST 13: close twice, then send and receive on the closed socket
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:close())
        ngx.say(sock:close())
        ngx.say(sock:send("x"))
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body
1
nilclosed
nilclosed
nilclosed
--- error_log
attempt to send data on a closed socket
attempt to receive data on a closed socket



=== TEST 14: the socket object can connect again after close
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        for i = 1, 2 do
            assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
            assert(sock:send("req " .. i .. "\n"))
            ngx.say(sock:receive())
            assert(sock:close())
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
req 1
req 2
--- no_error_log
[error]



=== TEST 15: connect on a connected socket closes the old connection first
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("one\n"))
        ngx.say(sock:receive())
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("two\n"))
        ngx.say(sock:receive())
        sock:close()
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
one
two
--- no_error_log
[error]



=== TEST 16: read timeout while receiving a line (non-fatal)
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeout(100)
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("x"))
        local line, err, partial = sock:receive()
        ngx.say(line, " ", err, " [", partial, "]")
        -- the partial data was handed out: it is not read again
        sock:settimeout(1000)
        line, err, partial = sock:receive()
        ngx.say(line, " ", err, " [", partial, "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
read 1
send "par"
sleep 200ms
send "tial\n"
--- response_body
nil timeout [par]
tial nil [nil]
--- error_log
lua tcp socket read timed out



=== TEST 17: ngx.socket.connect creates and connects in one call
--- config
location = /t {
    content_by_lua_block {
        local sock, err = ngx.socket.connect("127.0.0.1", $TEST_NGINX_TCP_PORT)
        ngx.say(type(sock), " ", err)
        assert(sock:send("hi\n"))
        ngx.say(sock:receive())
        sock:close()
        ngx.say(ngx.socket.connect("127.0.0.1", 1))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
table nil
hi
nilconnection refused
--- error_log
connect() failed (111: Connection refused)



=== TEST 18: ngx.socket.stream is ngx.socket.tcp
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.socket.stream == ngx.socket.tcp)
        local sock = ngx.socket.stream()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("s\n"))
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
true
s
--- no_error_log
[error]



=== TEST 19: a socket used by another request (kept in a module table): bad request
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> keep.lua
return {}
--- config
location = /use {
    content_by_lua_block {
        local keep = require "keep"
        local ok, err = pcall(keep.sock.send, keep.sock, "x")
        ngx.say("send: ", ok, " ", err)
        ok, err = pcall(keep.sock.receive, keep.sock)
        ngx.say("receive: ", ok, " ", err)
        ok, err = pcall(keep.sock.close, keep.sock)
        ngx.say("close: ", ok, " ", err)
    }
}
location = /t {
    content_by_lua_block {
        local keep = require "keep"
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        keep.sock = sock
        -- /use runs as another request (through a cosocket to ourselves)
        -- while this one still owns the socket
        local c = ngx.socket.tcp()
        assert(c:connect("127.0.0.1", ngx.var.server_port))
        assert(c:send("GET /use HTTP/1.0\r\nHost: localhost\r\n\r\n"))
        local resp = c:receive("*a")
        ngx.print((resp:match("\r\n\r\n(.*)$")))
        keep.sock = nil
        -- still usable by its owner
        ngx.say(sock:send("mine\n"))
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body_like
^send: false .*bad request
receive: false .*bad request
close: false .*bad request
5
mine
$
--- no_error_log
[error]



=== TEST 20: the socket is closed when the request ends
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("left open\n"))
        ngx.say("done")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
expect "left open\n"
read_to_eof
--- tcp_done
--- response_body
done
--- no_error_log
[error]



=== TEST 21: the peer resets the connection: receive fails with "connection reset by peer"
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("x"))
        local data, err, partial = sock:receive()
        ngx.say(data, " ", err, " [", partial, "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
read 1
reset
--- response_body
nil connection reset by peer []
--- error_log
recv() failed (104: Connection reset by peer)



=== TEST 22: the peer half-closes: data before the FIN, then "closed"
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:receive())
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "before fin\n"
shutdown_write
hold
--- response_body
before fin
nilclosed
--- no_error_log
[error]



=== TEST 23: a big reply read with *a in one call
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local data = assert(sock:receive("*a"))
        ngx.say(#data, " ", data:sub(1, 5), " ", data:sub(-5))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_reply eval
"begin" . ("0123456789" x 20000) . "endss"
--- tcp_shutdown: 0
--- response_body
200010 begin endss
--- no_error_log
[error]



=== TEST 24: sending a big request
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local big = string.rep("a", 100000) .. "\n"
        ngx.say(sock:send(big))
        ngx.say(sock:receive())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_query_len: 100001
--- tcp_reply
got it
--- response_body
100001
got it
--- no_error_log
[error]



=== TEST 25: receive(size) with a bad pattern
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local ok, err = pcall(sock.receive, sock, "*x")
        ngx.say(ok, " ", err)
        ok, err = pcall(sock.receive, sock, -1)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body_like
^false .*bad pattern argument.*
false .*bad pattern argument.*
$
--- no_error_log
[error]



=== TEST 26: connect with a bad port
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        ngx.say(sock:connect("127.0.0.1", 65536))
        ngx.say(sock:connect("127.0.0.1", -1))
    }
}
--- request
GET /t
--- response_body
nilbad port number: 65536
nilbad port number: -1
--- no_error_log
[error]



=== TEST 27: a host name without a resolver
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        local ok, err = sock:connect("some.host.test", 80)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body
nil no resolver defined to resolve "some.host.test"
--- no_error_log
[error]



=== TEST 28: a host name through the resolver directive
--- config
resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
resolver_timeout 1s;
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        local ok, err = sock:connect("peer.test", $TEST_NGINX_TCP_PORT)
        ngx.say("connect: ", ok, " ", err)
        assert(sock:send("via dns\n"))
        ngx.say(sock:receive())
        local sock2 = ngx.socket.tcp()
        ok, err = sock2:connect("missing.test", $TEST_NGINX_TCP_PORT)
        ngx.say("missing: ", ok, " ", err)
    }
}
--- request
GET /t
--- dns_records
peer.test A 127.0.0.1
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
connect: 1 nil
via dns
missing: nil missing.test could not be resolved (3: Host not found)
--- no_error_log
[error]



=== TEST 29: cosockets are not available in set_by_lua
--- config
location = /t {
    set_by_lua_block $err {
        local ok, err = pcall(function()
            local sock = ngx.socket.tcp()
            return sock:connect("127.0.0.1", 1)
        end)
        return tostring(err):match("API disabled in the context of %S+") or tostring(err)
    }
    content_by_lua_block {
        ngx.say(ngx.var.err)
    }
}
--- request
GET /t
--- response_body
API disabled in the context of set_by_lua*



=== TEST 29b: cosockets work in header_filter_by_lua (moonwire allows it)
--- moonwire_only
--- config
location = /t {
    header_filter_by_lua_block {
        local sock = ngx.socket.tcp()
        local ok, err = sock:connect("127.0.0.1", 1)
        ngx.header["X-Err"] = err
    }
    content_by_lua_block {
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_headers
X-Err: connection refused
--- response_body
ok



=== TEST 30: the socket object's methods
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        local names = {}
        for _, m in ipairs({"connect", "send", "receive", "receiveuntil", "receiveany",
                            "close", "settimeout", "settimeouts", "setoption",
                            "setkeepalive", "getreusedtimes", "sslhandshake"}) do
            names[#names + 1] = m .. "=" .. type(sock[m])
        end
        ngx.say(table.concat(names, " "))
    }
}
--- request
GET /t
--- response_body
connect=function send=function receive=function receiveuntil=function receiveany=function close=function settimeout=function settimeouts=function setoption=function setkeepalive=function getreusedtimes=function sslhandshake=function
--- no_error_log
[error]



=== TEST 31: receiveany returns what is there, up to max
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("x"))
        ngx.say("[", sock:receiveany(3), "]")
        ngx.say("[", sock:receiveany(100), "]")
        ngx.say("[", sock:receiveany(100), "]")
        ngx.say(sock:receiveany(100))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
read 1
send "hello"
sleep 100ms
send "world!"
close
--- response_body
[hel]
[lo]
[world!]
nilclosed
--- no_error_log
[error]



=== TEST 32: two sockets in one request, used one after the other
--- config
location = /t {
    content_by_lua_block {
        local a = ngx.socket.tcp()
        local b = ngx.socket.tcp()
        assert(a:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(b:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(b:send("to b\n"))
        assert(a:send("to a\n"))
        ngx.say(a:receive())
        ngx.say(b:receive())
        a:close()
        b:close()
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- response_body
to a
to b
--- no_error_log
[error]



=== TEST 33: HTTP/1.0 request to ourselves, read the status line then the rest
--- config
location = /hello {
    content_by_lua_block { ngx.say("hello from /hello") }
}
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", ngx.var.server_port))
        assert(sock:send("GET /hello HTTP/1.0\r\nHost: localhost\r\n\r\n"))
        ngx.say(sock:receive())
        local rest = sock:receive("*a")
        ngx.print(rest:match("\r\n\r\n(.*)$"))
    }
}
--- request
GET /t
--- response_body
HTTP/1.1 200 OK
hello from /hello
--- no_error_log
[error]



=== TEST 34: a unix-domain socket
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        local ok, err = sock:connect("unix:$TEST_NGINX_TCP_SOCKET")
        ngx.say("connect: ", ok, " ", err)
        ngx.say("send: ", sock:send("over unix\n"))
        ngx.say("receive: ", sock:receive())
        ngx.say("close: ", sock:close())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_SOCKET
--- tcp_script
echo_lines
--- tcp_query
over unix
--- response_body
connect: 1 nil
send: 10
receive: over unix
close: 1
--- no_error_log
[error]



=== TEST 35: a unix-domain socket that does not exist
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        ngx.say(sock:connect("unix:/tmp/no/such/moonwire-test.sock"))
    }
}
--- request
GET /t
--- response_body
nilno such file or directory
--- error_log
connect() to unix:/tmp/no/such/moonwire-test.sock failed (2: No such file or directory)
