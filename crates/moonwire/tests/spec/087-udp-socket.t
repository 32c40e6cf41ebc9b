# ngx.socket.udp: setpeername, send, receive, settimeout, close, errors.
# The peer is the runner's UDP peer (--- udp_listen on $TEST_NGINX_UDP_PORT,
# answering every datagram with --- udp_reply) or its DNS server
# (--- dns_records on $TEST_NGINX_DNS_PORT). UDP port 1 on 127.0.0.1 is
# assumed closed.

=== TEST 1: send a datagram, receive the reply
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        ngx.say("setpeername: ", udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        ngx.say("send: ", udp:send("ping"))
        local data, err = udp:receive()
        ngx.say("receive: ", data, " ", err)
        ngx.say("close: ", udp:close())
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- udp_query: ping
--- udp_reply: pong
--- response_body
setpeername: 1
send: 1
receive: pong nil
close: 1
--- no_error_log
[error]



=== TEST 2: each receive returns one datagram
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        assert(udp:send("hi"))
        for i = 1, 3 do
            ngx.say(i, ": [", udp:receive(), "]")
        end
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- udp_reply eval
["first", "second datagram", ""]
--- response_body
1: [first]
2: [second datagram]
3: []
--- no_error_log
[error]



=== TEST 3: receive(size) truncates a bigger datagram
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        assert(udp:send("x"))
        ngx.say("[", udp:receive(5), "]")
        ngx.say("[", udp:receive(100), "]")
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- udp_reply eval
["0123456789", "abc"]
--- response_body
[01234]
[abc]
--- no_error_log
[error]



=== TEST 4: a big datagram (default receive size)
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        assert(udp:send("x"))
        local data = assert(udp:receive())
        ngx.say(#data)
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- udp_reply eval
"a" x 8000
--- response_body
8000
--- no_error_log
[error]



=== TEST 5: send a table of strings and numbers
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        ngx.say(udp:send({"GET ", {"/", "x"}, " ", 42}))
        ngx.say(udp:receive())
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- udp_query: GET /x 42
--- udp_reply: ok
--- response_body
1
ok
--- no_error_log
[error]



=== TEST 6: read timeout
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        udp:settimeout(100)
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        assert(udp:send("nobody answers"))
        ngx.update_time()
        local t0 = ngx.now()
        local data, err = udp:receive()
        ngx.update_time()
        local dt = ngx.now() - t0
        ngx.say(data, " ", err, " ", dt >= 0.09 and dt < 0.5)
        -- still usable
        ngx.say(udp:send("again"))
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- response_body
nil timeout true
1
--- error_log
lua udp socket read timed out



=== TEST 7: lua_socket_read_timeout applies to udp sockets
--- config
lua_socket_read_timeout 100ms;
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        assert(udp:send("x"))
        ngx.say(udp:receive())
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- response_body
niltimeout
--- error_log
lua udp socket read timed out



=== TEST 8: a reply that comes late is still received within the timeout
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        udp:settimeout(1000)
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        assert(udp:send("x"))
        ngx.say(udp:receive())
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- udp_reply: late
--- udp_reply_delay: 100ms
--- response_body
late
--- no_error_log
[error]



=== TEST 9: operations before setpeername and after close
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        ngx.say(udp:send("x"))
        ngx.say(udp:receive())
        ngx.say(udp:close())
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        ngx.say(udp:close())
        ngx.say(udp:send("x"))
        ngx.say(udp:receive())
        ngx.say(udp:close())
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- response_body
nilclosed
nilclosed
nilclosed
1
nilclosed
nilclosed
nilclosed
--- error_log
attempt to send data on a closed socket
attempt to receive data on a closed socket



=== TEST 10: a closed port: the ICMP error shows as "connection refused"
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        udp:settimeout(1000)
        assert(udp:setpeername("127.0.0.1", 1))
        ngx.say(udp:send("anyone?"))
        ngx.say(udp:receive())
    }
}
--- request
GET /t
--- response_body
1
nilconnection refused
--- error_log
recv() failed (111: Connection refused)



=== TEST 11: setpeername again switches the peer
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        assert(udp:setpeername("127.0.0.1", 1))
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        assert(udp:send("x"))
        ngx.say(udp:receive())
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- udp_reply: from the udp peer
--- response_body
from the udp peer
--- no_error_log
[error]



=== TEST 12: a hand-made DNS query through a udp socket
--- config
location = /t {
    content_by_lua_block {
        local function query(name)
            local q = {"\0\42\1\0\0\1\0\0\0\0\0\0"}
            for label in name:gmatch("[^.]+") do
                q[#q + 1] = string.char(#label) .. label
            end
            q[#q + 1] = "\0\0\1\0\1"
            return table.concat(q)
        end
        local udp = ngx.socket.udp()
        udp:settimeout(1000)
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_DNS_PORT))
        assert(udp:send(query("www.example.test")))
        local resp = assert(udp:receive())
        local id = resp:byte(1) * 256 + resp:byte(2)
        local rcode = resp:byte(4) % 16
        local ancount = resp:byte(7) * 256 + resp:byte(8)
        local a, b, c, d = resp:byte(#resp - 3, #resp)
        ngx.say("id ", id, " rcode ", rcode, " answers ", ancount, " address ", a, ".", b, ".", c, ".", d)

        assert(udp:send(query("nothing.example.test")))
        resp = assert(udp:receive())
        ngx.say("rcode ", resp:byte(4) % 16)
    }
}
--- request
GET /t
--- dns_records
www.example.test A 10.1.2.3
--- response_body
id 42 rcode 0 answers 1 address 10.1.2.3
rcode 3
--- no_error_log
[error]



=== TEST 13: setpeername with a host name needs a resolver
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        ngx.say(udp:setpeername("some.host.test", 53))
    }
}
--- request
GET /t
--- response_body
nilno resolver defined to resolve "some.host.test"
--- no_error_log
[error]



=== TEST 14: setpeername with a host name through the resolver directive
--- config
resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        ngx.say(udp:setpeername("udp-peer.test", $TEST_NGINX_UDP_PORT))
        assert(udp:send("x"))
        ngx.say(udp:receive())
        ngx.say(udp:setpeername("gone.test", $TEST_NGINX_UDP_PORT))
    }
}
--- request
GET /t
--- dns_records
udp-peer.test A 127.0.0.1
--- udp_listen: $TEST_NGINX_UDP_PORT
--- udp_reply: resolved
--- response_body
1
resolved
nilgone.test could not be resolved (3: Host not found)
--- no_error_log
[error]



=== TEST 15: bad arguments
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        ngx.say(udp:setpeername("127.0.0.1", 70000))
        assert(udp:setpeername("127.0.0.1", $TEST_NGINX_UDP_PORT))
        local ok, err = pcall(udp.send, udp, print)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- udp_listen: $TEST_NGINX_UDP_PORT
--- response_body_like
^nilbad port number: 70000
false .*string, number, boolean, nil, or array table expected, got function.*
$

--- no_error_log
[error]



=== TEST 16: the udp socket object's methods
--- config
location = /t {
    content_by_lua_block {
        local udp = ngx.socket.udp()
        local names = {}
        for _, m in ipairs({"setpeername", "send", "receive", "close", "settimeout"}) do
            names[#names + 1] = m .. "=" .. type(udp[m])
        end
        ngx.say(table.concat(names, " "))
    }
}
--- request
GET /t
--- response_body
setpeername=function send=function receive=function close=function settimeout=function
--- no_error_log
[error]
