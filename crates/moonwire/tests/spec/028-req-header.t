# ngx.req.get_headers and related request-header APIs.

=== TEST 1: get_headers with lowercase keys
--- config
location = /t {
    content_by_lua_block {
        local h = ngx.req.get_headers()
        ngx.say("foo: ", h["foo"])
        ngx.say("bar: ", h.bar)
        ngx.say("host: ", h.host)
    }
}
--- request
GET /t
--- more_headers
Foo: 1
BAR: two
--- response_body
foo: 1
bar: two
host: localhost
--- no_error_log
[error]



=== TEST 2: lookups are case-insensitive and accept underscores
--- config
location = /t {
    content_by_lua_block {
        local h = ngx.req.get_headers()
        ngx.say(h["X-My-Header"], " ", h["x-my-header"], " ", h.x_my_header, " ", h["X-MY-HEADER"])
    }
}
--- request
GET /t
--- more_headers
X-My-Header: val
--- response_body
val val val val
--- no_error_log
[error]



=== TEST 3: repeated headers give a table
--- config
location = /t {
    content_by_lua_block {
        local v = ngx.req.get_headers()["x-rep"]
        ngx.say(type(v), " ", #v, " ", v[1], " ", v[2], " ", v[3])
    }
}
--- request
GET /t
--- more_headers
X-Rep: a
X-Rep: b
x-rep: c
--- response_body
table 3 a b c
--- no_error_log
[error]



=== TEST 4: raw keys keep their case
--- config
location = /t {
    content_by_lua_block {
        local h = ngx.req.get_headers(0, true)
        ngx.say(h["X-Mixed-Case"], " ", h["x-mixed-case"])
        ngx.say(getmetatable(h) == nil)
    }
}
--- request
GET /t
--- more_headers
X-Mixed-Case: yes
--- response_body
yes nil
true
--- no_error_log
[error]



=== TEST 5: max headers (default 100) truncates and says so
--- config
location = /t {
    content_by_lua_block {
        local h, err = ngx.req.get_headers(2)
        local n = 0
        for _ in pairs(h) do n = n + 1 end
        ngx.say(n, " ", err)
    }
}
--- request
GET /t
--- more_headers
A: 1
B: 2
C: 3
--- response_body
2 truncated
--- no_error_log
[error]



=== TEST 6: the default limit is 100
--- config
location = /t {
    content_by_lua_block {
        local h, err = ngx.req.get_headers()
        local n = 0
        for _ in pairs(h) do n = n + 1 end
        ngx.say(n, " ", err)
    }
}
--- raw_request
GET /t HTTP/1.1
Host: localhost
Connection: close
H1: x
H2: x
H3: x
H4: x
H5: x
H6: x
H7: x
H8: x
H9: x
H10: x
H11: x
H12: x
H13: x
H14: x
H15: x
H16: x
H17: x
H18: x
H19: x
H20: x
H21: x
H22: x
H23: x
H24: x
H25: x
H26: x
H27: x
H28: x
H29: x
H30: x
H31: x
H32: x
H33: x
H34: x
H35: x
H36: x
H37: x
H38: x
H39: x
H40: x
H41: x
H42: x
H43: x
H44: x
H45: x
H46: x
H47: x
H48: x
H49: x
H50: x
H51: x
H52: x
H53: x
H54: x
H55: x
H56: x
H57: x
H58: x
H59: x
H60: x
H61: x
H62: x
H63: x
H64: x
H65: x
H66: x
H67: x
H68: x
H69: x
H70: x
H71: x
H72: x
H73: x
H74: x
H75: x
H76: x
H77: x
H78: x
H79: x
H80: x
H81: x
H82: x
H83: x
H84: x
H85: x
H86: x
H87: x
H88: x
H89: x
H90: x
H91: x
H92: x
H93: x
H94: x
H95: x
H96: x
H97: x
H98: x
H99: x
H100: x

--- response_body
100 truncated
--- no_error_log
[error]



=== TEST 7: max 0 means unlimited
--- config
location = /t {
    content_by_lua_block {
        local h, err = ngx.req.get_headers(0)
        local n = 0
        for _ in pairs(h) do n = n + 1 end
        ngx.say(n, " ", err)
    }
}
--- request
GET /t
--- more_headers
A: 1
B: 2
C: 3
--- response_body
5 nil
--- no_error_log
[error]



=== TEST 8: an absent header is nil
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.req.get_headers()["x-nope"])
    }
}
--- request
GET /t
--- response_body
nil
--- no_error_log
[error]



=== TEST 9: an empty header value
--- config
location = /t {
    content_by_lua_block {
        local v = ngx.req.get_headers()["x-empty"]
        ngx.say("[", v, "] ", type(v))
    }
}
--- raw_request
GET /t HTTP/1.1
Host: localhost
Connection: close
X-Empty:

--- response_body
[] string
--- no_error_log
[error]



=== TEST 10: surrounding whitespace of a value is stripped
--- config
location = /t {
    content_by_lua_block {
        ngx.say("[", ngx.req.get_headers()["x-ws"], "]")
    }
}
--- raw_request
GET /t HTTP/1.1
Host: localhost
Connection: close
X-WS:    spaced value   

--- response_body
[spaced value]
--- no_error_log
[error]



=== TEST 11: ngx.req.get_method
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.req.get_method())
    }
}
--- request
PUT /t
--- request_body chomp
data
--- response_body
PUT
--- no_error_log
[error]



=== TEST 12: ngx.req.http_version
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.req.http_version())
    }
}
--- request
GET /t HTTP/1.0
--- response_body
1
--- no_error_log
[error]



=== TEST 13: ngx.req.http_version for HTTP/1.1
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.req.http_version())
    }
}
--- request
GET /t
--- response_body
1.1
--- no_error_log
[error]



=== TEST 14: ngx.req.raw_header returns the request line and headers
--- config
location = /t {
    content_by_lua_block {
        ngx.print(ngx.req.raw_header())
    }
}
--- raw_request
GET /t HTTP/1.1
Host: localhost
Connection: close
X-Raw: 1

--- response_body_like
^GET /t HTTP/1\.1\r\nHost: localhost\r\nConnection: close\r\nX-Raw: 1\r\n\r\n$
--- no_error_log
[error]



=== TEST 15: ngx.req.raw_header(true) omits the request line
--- config
location = /t {
    content_by_lua_block {
        ngx.print(ngx.req.raw_header(true))
    }
}
--- raw_request
GET /t HTTP/1.1
Host: localhost
Connection: close

--- response_body_like
^Host: localhost\r\nConnection: close\r\n\r\n$
--- no_error_log
[error]



=== TEST 16: the headers table iterates with lowercase keys
--- config
location = /t {
    content_by_lua_block {
        local h = ngx.req.get_headers()
        local keys = {}
        for k, v in pairs(h) do keys[#keys + 1] = k .. "=" .. v end
        table.sort(keys)
        ngx.say(table.concat(keys, " "))
    }
}
--- raw_request
GET /t HTTP/1.1
Host: localhost
Connection: close
X-B: 2
x-a: 1

--- response_body
connection=close host=localhost x-a=1 x-b=2
--- no_error_log
[error]
