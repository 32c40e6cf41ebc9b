# ngx.req.socket(): streaming the request body.

=== TEST 1: receive the body in pieces, then "closed"
--- config
location = /t {
    content_by_lua_block {
        local sock, err = ngx.req.socket()
        if not sock then
            ngx.say("failed to get socket: ", err)
            return
        end
        for i = 1, 3 do
            local data, err, partial = sock:receive(5)
            ngx.say(i, ": ", data, " ", err, " ", partial)
        end
    }
}
--- request
POST /t
hello, world
--- response_body
1: hello nil nil
2: , wor nil nil
3: nil closed ld
--- no_error_log
[error]



=== TEST 2: receive lines and receiveuntil over the body
--- config
location = /t {
    content_by_lua_block {
        local sock = assert(ngx.req.socket())
        ngx.say("line: ", sock:receive())
        local it = sock:receiveuntil("--")
        ngx.say("until: ", it())
        ngx.say("rest: ", sock:receive("*a"))
    }
}
--- request
POST /t
first line
a--b
--- response_body
line: first line
until: a
rest: b
--- no_error_log
[error]



=== TEST 3: receiveany
--- config
location = /t {
    content_by_lua_block {
        local sock = assert(ngx.req.socket())
        ngx.say("any: ", sock:receiveany(3))
        ngx.say("any: ", sock:receiveany(100))
        ngx.say("end: ", sock:receiveany(100))
    }
}
--- request
POST /t
abcdefg
--- response_body
any: abc
any: defg
end: nilclosed
--- no_error_log
[error]



=== TEST 4: no body
--- config
location = /t {
    content_by_lua_block {
        local sock, err = ngx.req.socket()
        ngx.say(sock, " ", err)
    }
}
--- request
GET /t
--- response_body
nil no body
--- no_error_log
[error]



=== TEST 5: after read_body the body is taken
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        local sock, err = ngx.req.socket()
        ngx.say(sock, " ", err)
        ngx.say("data: ", ngx.req.get_body_data())
    }
}
--- request
POST /t
hello
--- response_body
nil request body already exists
data: hello
--- no_error_log
[error]



=== TEST 6: the body socket has no send
--- config
location = /t {
    content_by_lua_block {
        local sock = assert(ngx.req.socket())
        ngx.say(sock.send)
        ngx.say(sock:receive(5))
    }
}
--- request
POST /t
hello
--- response_body
nil
hello
--- no_error_log
[error]



=== TEST 7: a chunked body through the body socket
--- moonwire_only
lua-nginx-module 0.10.23 answers "chunked request bodies not supported yet".
--- config
location = /t {
    content_by_lua_block {
        local sock = assert(ngx.req.socket())
        ngx.say(sock:receive("*a"))
    }
}
--- raw_request
POST /t HTTP/1.1
Host: localhost
Connection: close
Transfer-Encoding: chunked

5
hello
7
, world
0


--- response_body
hello, world
--- no_error_log
[error]



=== TEST 8: read timeout
--- config
location = /t {
    content_by_lua_block {
        local sock = assert(ngx.req.socket())
        sock:settimeout(100)
        local data, err, partial = sock:receive(10)
        ngx.say(data, " ", err, " ", #partial)
    }
}
--- raw_request
POST /t HTTP/1.1
Host: localhost
Connection: close
Content-Length: 10

hello
--- response_body
nil timeout 7
--- error_log
lua tcp socket read timed out



=== TEST 9: the request socket in the wrong phase
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.timer.at, 0, function()
            local ok, err = pcall(ngx.req.socket)
            ngx.log(ngx.WARN, "timer: ", ok, " ", err)
        end)
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_body
ok
--- wait: 0.2
--- error_log
timer: false API disabled in the context of ngx.timer
