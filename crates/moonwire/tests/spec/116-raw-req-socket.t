# ngx.req.socket(true): the raw client connection.

=== TEST 1: read the body raw and write the whole response by hand
--- config
location = /t {
    content_by_lua_block {
        local sock, err = ngx.req.socket(true)
        if not sock then
            ngx.log(ngx.ERR, "failed to get raw socket: ", err)
            return
        end
        local data = assert(sock:receive(5))
        local ok, err = sock:send("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n" .. data .. "\n")
        if not ok then
            ngx.log(ngx.ERR, "failed to send: ", err)
        end
    }
}
--- request
POST /t
hello
--- response_body
hello
--- no_error_log
[error]



=== TEST 2: headers flushed first, then raw bytes
--- config
location = /t {
    content_by_lua_block {
        ngx.status = 200
        ngx.header["Content-Length"] = 11
        ngx.send_headers()
        ngx.flush(true)
        local sock = assert(ngx.req.socket(true))
        assert(sock:send("hello"))
        assert(sock:send({ " ", "world" }))
    }
}
--- request
GET /t
--- response_body chomp
hello world
--- no_error_log
[error]



=== TEST 3: a second call
--- config
location = /t {
    content_by_lua_block {
        local sock = assert(ngx.req.socket(true))
        local sock2, err = ngx.req.socket(true)
        local msg = "second: " .. tostring(sock2) .. " " .. err .. "\n"
        sock:send("HTTP/1.1 200 OK\r\nContent-Length: " .. #msg .. "\r\n\r\n" .. msg)
    }
}
--- request
GET /t
--- response_body
second: nil duplicate call
--- no_error_log
[error]



=== TEST 4: HTTP/1.0 buffering in the way
--- config
location = /t {
    content_by_lua_block {
        ngx.say("buffered")
        local sock, err = ngx.req.socket(true)
        ngx.say("raw: ", sock, " ", err)
    }
}
--- request
GET /t HTTP/1.0
--- response_body
buffered
raw: nil http 1.0 buffering
--- no_error_log
[error]



=== TEST 5: a chunked body read raw
--- config
location = /t {
    content_by_lua_block {
        local sock = assert(ngx.req.socket(true))
        local body = {}
        while true do
            local line = assert(sock:receive())
            local size = tonumber(line, 16)
            if size == 0 then
                assert(sock:receive())
                break
            end
            body[#body + 1] = assert(sock:receive(size))
            assert(sock:receive())
        end
        local msg = table.concat(body) .. "\n"
        sock:send("HTTP/1.1 200 OK\r\nContent-Length: " .. #msg .. "\r\n\r\n" .. msg)
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



=== TEST 6: receiveuntil and receiveany on the raw socket
--- config
location = /t {
    content_by_lua_block {
        local sock = assert(ngx.req.socket(true))
        local it = sock:receiveuntil("\r\n--end\r\n")
        local a = assert(it())
        local msg = "got: " .. a .. "\n"
        sock:send("HTTP/1.1 200 OK\r\nContent-Length: " .. #msg .. "\r\n\r\n" .. msg)
    }
}
--- raw_request
POST /t HTTP/1.1
Host: localhost
Connection: close
Content-Length: 11

abc
--end

--- response_body
got: abc
--- no_error_log
[error]
