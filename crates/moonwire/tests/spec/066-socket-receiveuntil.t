# tcpsock:receiveuntil(pattern): the iterator, with and without its size
# argument, with the peer sending everything at once or one byte at a time
# (send_bytewise), patterns that partly match before they match, errors.

=== TEST 1: read up to a boundary, then go on with receive
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("\r\n--abc")
        ngx.say("type: ", type(reader))
        local data, err, partial = reader()
        ngx.say("data: [", data, "] ", err, " ", partial)
        ngx.say("line: [", sock:receive(), "]")
        local line, err, partial = sock:receive()
        ngx.say("rest: ", line, " ", err, " [", partial, "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "hello, world\r\n--abc\r\nrest"
close
--- response_body
type: function
data: [hello, world] nil nil
line: []
rest: nil closed [rest]
--- no_error_log
[error]



=== TEST 2: the same with one byte at a time
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("\r\n--abc")
        local data, err, partial = reader()
        ngx.say("data: [", data, "] ", err, " ", partial)
        ngx.say("line: [", sock:receive(), "]")
        ngx.say("rest: [", sock:receive(), "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 1ms "hello, world\r\n--abc\r\nrest\n"
close
--- response_body
data: [hello, world] nil nil
line: []
rest: [rest]
--- no_error_log
[error]



=== TEST 3: one iterator, called again for each boundary
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("--")
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
1: [a] nil [nil]
2: [bb] nil [nil]
3: [] nil [nil]
4: [c-d] nil [nil]
5: [nil] closed [tail]
--- no_error_log
[error]



=== TEST 4: the size argument: at most size bytes a call; the call that eats the boundary returns what is left before it (maybe ""), the next one nil
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("\r\n--abc")
        while true do
            local data, err, partial = reader(4)
            if not data then
                ngx.say("done: ", err, " ", partial)
                break
            end
            ngx.say("chunk: [", data, "]")
        end
        ngx.say("after: [", sock:receive(), "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "hello, world\r\n--abcdef\n"
close
--- response_body
chunk: [hell]
chunk: [o, w]
chunk: [orld]
chunk: []
done: nil nil
after: [def]
--- no_error_log
[error]



=== TEST 5: the size argument with one byte at a time
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("\r\n--abc")
        while true do
            local data, err, partial = reader(4)
            if not data then
                ngx.say("done: ", err, " ", partial)
                break
            end
            ngx.say("chunk: [", data, "]")
        end
        ngx.say("after: [", sock:receive(), "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 1ms "hello, world\r\n--abcdef\n"
close
--- response_body
chunk: [hell]
chunk: [o, w]
chunk: [orld]
chunk: []
done: nil nil
after: [def]
--- no_error_log
[error]



=== TEST 6: the size argument when the boundary comes first: "" then nil
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("--")
        for i = 1, 6 do
            local data, err, partial = reader(3)
            ngx.say(i, ": [", data, "] ", err, " [", partial, "]")
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "--abcd--"
close
--- response_body
1: [] nil [nil]
2: [nil] nil [nil]
3: [abc] nil [nil]
4: [d] nil [nil]
5: [nil] nil [nil]
6: [nil] closed []
--- no_error_log
[error]



=== TEST 7: the peer closes before the boundary: nil, "closed", partial without the bytes of the unfinished match
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("--end--")
        local data, err, partial = reader()
        ngx.say(data, " ", err, " [", partial, "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 1ms "no boundary --end-"
close
--- response_body
nil closed [no boundary ]
--- no_error_log
[error]



=== TEST 8: a read timeout before the boundary, then the rest arrives
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        sock:settimeout(100)
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("--")
        local data, err, partial = reader()
        ngx.say("1: ", data, " ", err, " [", partial, "]")
        sock:settimeout(1000)
        data, err, partial = reader()
        ngx.say("2: ", data, " ", err, " [", partial, "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "first part"
sleep 200ms
send "second part--"
hold
--- response_body
1: nil timeout [first part]
2: second part nil [nil]
--- error_log
lua tcp socket read timed out



=== TEST 9: a prefix of the pattern that repeats (aab in aaab)
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("aab")
        ngx.say("[", reader(), "]")
        ngx.say("[", sock:receive(), "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "xaaab-rest\n"
close
--- response_body
[xa]
[-rest]
--- no_error_log
[error]



=== TEST 10: partial matches that fail and restart inside the pattern (abab in abaabababc)
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("ababc")
        ngx.say("[", reader(), "]")
        ngx.say("[", sock:receive(), "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 1ms "abaabababcZ\n"
close
--- response_body
[abaab]
[Z]
--- no_error_log
[error]



=== TEST 11: partial matches that fail, all at once
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("--abc")
        ngx.say("[", reader(), "]")
        ngx.say("[", reader(), "]")
        ngx.say("[", sock:receive(), "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "a-b--ab---abc--a--abc--abcx\n"
close
--- response_body
[a-b--ab-]
[--a]
[--abcx]
--- no_error_log
[error]



=== TEST 12: a one-byte pattern
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil(",")
        for i = 1, 4 do
            ngx.say(i, ": ", reader())
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 1ms "one,two,,three"
close
--- response_body
1: one
2: two
3: 
4: nilclosedthree
--- no_error_log
[error]



=== TEST 13: a one-byte pattern with a size
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil(",")
        for i = 1, 5 do
            ngx.say(i, ": ", reader(2))
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "abc,de"
close
--- response_body
1: ab
2: c
3: nilnilnil
4: de
5: nilclosed
--- no_error_log
[error]



=== TEST 14: two iterators on one socket
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local by_dash = sock:receiveuntil("--")
        local by_semi = sock:receiveuntil(";")
        ngx.say(by_dash())
        ngx.say(by_semi())
        ngx.say(by_dash())
        ngx.say(sock:receive("*a"))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "a--b;c--d;e"
close
--- response_body
a
b
c
d;e
--- no_error_log
[error]



=== TEST 15: a pattern longer than the whole reply (which matches its start): empty partial
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("this pattern is long")
        ngx.say(reader())
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "this pat"
close
--- response_body
nilclosed
--- no_error_log
[error]



=== TEST 16: an empty pattern is an error
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        ngx.say(sock:receiveuntil(""))
        local ok, err = pcall(sock.receiveuntil, sock)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body_like
^nilpattern is empty
false .*
$
--- no_error_log
[error]



=== TEST 17: a multipart-like body read part by part with a size
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("\r\n--b\r\n")
        local part = 0
        while true do
            part = part + 1
            local buf = {}
            while true do
                local data, err, partial = reader(5)
                if not data then
                    if err then
                        buf[#buf + 1] = partial
                        ngx.say("part ", part, ": [", table.concat(buf), "] ", err)
                        return
                    end
                    break
                end
                buf[#buf + 1] = data
            end
            ngx.say("part ", part, ": [", table.concat(buf), "]")
        end
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send_bytewise 1ms "first part\r\n--b\r\nsecond, a bit longer\r\n--b\r\n\r\n--b\r\nlast"
close
--- response_body
part 1: [first part]
part 2: [second, a bit longer]
part 3: []
part 4: [last] closed
--- no_error_log
[error]



=== TEST 18: a boundary spread over two sends with a pause between
--- config
location = /t {
    content_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        local reader = sock:receiveuntil("<END>")
        ngx.say("[", reader(), "]")
        ngx.say("[", sock:receive("*a"), "]")
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
send "payload<EN"
sleep 50ms
send "D>after"
close
--- response_body
[payload]
[after]
--- no_error_log
[error]
