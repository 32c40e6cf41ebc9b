# ngx.req.read_body, discard_body, get_body_data, get_body_file,
# set_body_data, set_body_file, init_body / append_body / finish_body,
# lua_need_request_body, $request_body, chunked bodies, temp files, 413.

=== TEST 1: read_body then get_body_data
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say("body: [", ngx.req.get_body_data(), "]")
        ngx.say("file: ", ngx.req.get_body_file())
    }
}
--- request
POST /t
hello, world
--- response_body
body: [hello, world]
file: nil
--- no_error_log
[error]



=== TEST 2: the body is not read unless asked for
--- config
location = /t {
    content_by_lua_block {
        ngx.say("body: ", ngx.req.get_body_data())
        ngx.say("var: ", ngx.var.request_body)
    }
}
--- request
POST /t
hello, world
--- response_body
body: nil
var: nil
--- no_error_log
[error]



=== TEST 3: no body at all
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say("body: ", ngx.req.get_body_data())
        local args = ngx.req.get_post_args()
        ngx.say("args: ", type(args), " ", next(args))
    }
}
--- request
GET /t
--- response_body
body: nil
args: table nil
--- no_error_log
[error]



=== TEST 4: lua_need_request_body reads it before the handler
--- config
location = /t {
    lua_need_request_body on;
    content_by_lua_block {
        ngx.say("body: [", ngx.req.get_body_data(), "]")
        ngx.say("var: [", ngx.var.request_body, "]")
    }
}
--- request
POST /t
a=1&b=2
--- response_body
body: [a=1&b=2]
var: [a=1&b=2]
--- no_error_log
[error]



=== TEST 5: discard_body
--- config
location = /t {
    content_by_lua_block {
        ngx.req.discard_body()
        ngx.say("body: ", ngx.req.get_body_data())
        ngx.req.read_body()
        ngx.say("after read: ", ngx.req.get_body_data())
    }
}
--- request
POST /t
hello
--- response_body
body: nil
after read: nil
--- no_error_log
[error]



=== TEST 6: read_body takes no arguments
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.req.read_body, 1)
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
    }
}
--- request
POST /t
hello
--- response_body
false expecting 0 arguments but seen 1
--- no_error_log
[error]



=== TEST 7: a chunked body
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say("body: [", ngx.req.get_body_data(), "]")
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
body: [hello, world]
--- no_error_log
[error]



=== TEST 8: a chunked body larger than client_max_body_size is 413
--- config
location = /t {
    client_max_body_size 8;
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say("body: [", ngx.req.get_body_data(), "]")
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


--- error_code: 413
--- response_body_like: 413 Request Entity Too Large
--- error_log
client intended to send too large chunked body



=== TEST 9: a Content-Length above client_max_body_size is 413 before any handler
--- config
location = /t {
    client_max_body_size 4;
    content_by_lua_block {
        ngx.say("never")
    }
}
--- request
POST /t
hello, world
--- error_code: 413
--- response_body_like: 413 Request Entity Too Large
--- error_log
client intended to send too large body: 12 bytes



=== TEST 10: bad chunked encoding is 400
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say("body: [", ngx.req.get_body_data(), "]")
    }
}
--- raw_request
POST /t HTTP/1.1
Host: localhost
Connection: close
Transfer-Encoding: chunked

zz
hello
0


--- error_code: 400
--- response_body_like: 400 Bad Request



=== TEST 11: a body larger than client_body_buffer_size goes to a temp file
--- config
location = /t {
    client_body_buffer_size 1k;
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say("data: ", ngx.req.get_body_data())
        local name = ngx.req.get_body_file()
        ngx.say("file: ", type(name))
        local f = assert(io.open(name))
        local content = f:read("*a")
        f:close()
        ngx.say("content: ", #content, " ", content == string.rep("a", 100000))
        ngx.say("var: ", ngx.var.request_body)
        ngx.say("post args: ", ngx.req.get_post_args())
    }
}
--- request
POST /t
--- request_body eval
"a" x 100000
--- response_body
data: nil
file: string
content: 100000 true
var: nil
post args: nilrequest body in temp file not supported
--- no_error_log
[error]



=== TEST 24: a body that came whole with the request head stays in memory
--- config
location = /t {
    client_body_buffer_size 4;
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say("data: ", ngx.req.get_body_data())
        ngx.say("file: ", ngx.req.get_body_file())
    }
}
--- request
POST /t
hello, world
--- response_body
data: hello, world
file: nil
--- no_error_log
[error]



=== TEST 12: the temp file is gone after the request
--- config
location = /t {
    client_body_buffer_size 1k;
    content_by_lua_block {
        -- each run checks that the previous run's temp file is gone
        local note = ngx.config.prefix() .. "html/last-body-file"
        local f = io.open(note)
        local gone = true
        if f then
            local last = f:read("*a")
            f:close()
            gone = io.open(last) == nil
        end
        ngx.req.read_body()
        f = assert(io.open(note, "w"))
        f:write(ngx.req.get_body_file())
        f:close()
        ngx.say("previous gone: ", gone)
    }
}
--- request
POST /t
--- request_body eval
"a" x 100000
--- response_body
previous gone: true
--- no_error_log
[error]



=== TEST 13: client_body_in_file_only
--- config
location = /t {
    client_body_in_file_only on;
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say("data: ", ngx.req.get_body_data())
        local f = assert(io.open(ngx.req.get_body_file()))
        ngx.say("content: [", f:read("*a"), "]")
        f:close()
    }
}
--- request
POST /t
tiny
--- response_body
data: nil
content: [tiny]
--- no_error_log
[error]



=== TEST 14: client_body_temp_path
--- config
location = /t {
    client_body_in_file_only on;
    client_body_temp_path $TEST_NGINX_SERVER_ROOT/my_body_temp;
    content_by_lua_block {
        ngx.req.read_body()
        local name = ngx.req.get_body_file()
        ngx.say(name:find("/my_body_temp/", 1, true) ~= nil)
    }
}
--- request
POST /t
tiny
--- response_body
true
--- no_error_log
[error]



=== TEST 15: set_body_data replaces the body and the Content-Length
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.req.set_body_data("a=b&c=d")
        ngx.say("data: ", ngx.req.get_body_data())
        ngx.say("var: ", ngx.var.request_body)
        ngx.say("content_length: ", ngx.var.content_length)
        ngx.say("header: ", ngx.req.get_headers()["content-length"])
        local args = ngx.req.get_post_args()
        ngx.say("args: ", args.a, " ", args.c)
        ngx.req.set_body_data("")
        ngx.say("empty: ", ngx.req.get_body_data(), " ", ngx.req.get_headers()["content-length"])
    }
}
--- request
POST /t
hello, world
--- response_body
data: a=b&c=d
var: a=b&c=d
content_length: 7
header: 7
args: b d
empty: nil 0
--- no_error_log
[error]



=== TEST 16: set_body_data before the body was read
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.req.set_body_data, "x")
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
    }
}
--- request
POST /t
hello
--- response_body
false request body not read yet
--- no_error_log
[error]



=== TEST 25: set_body_data after discard_body
--- moonwire_only
nginx says "request body not read yet" when the body came with the head (its
discard finished at once) and this when it still had to drain it; moonwire
always drains after the response.
--- config
location = /t {
    content_by_lua_block {
        ngx.req.discard_body()
        local ok, err = pcall(ngx.req.set_body_data, "x")
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
        local args = ngx.req.get_post_args()
        ngx.say("args: ", type(args), " ", next(args))
    }
}
--- request
POST /t
hello
--- response_body
false request body already discarded asynchronously
args: table nil
--- no_error_log
[error]



=== TEST 17: set_body_file
--- config
location = /t {
    content_by_lua_block {
        local name = ngx.config.prefix() .. "html/body.txt"
        ngx.req.read_body()
        ngx.req.set_body_file(name)
        ngx.say("file: ", ngx.req.get_body_file() == name)
        ngx.say("data: ", ngx.req.get_body_data())
        ngx.say("content_length: ", ngx.var.content_length)
        local ok, err = pcall(ngx.req.set_body_file, name .. ".missing")
        err = string.gsub(err, "^.-:%d+: ", "")
        ngx.say(ok, " ", (string.gsub(err, "\".*\"", "\"NAME\"")))
    }
}
--- user_files
>>> body.txt
file body
--- request
POST /t
hello
--- response_body
file: true
data: nil
content_length: 10
false stat() "NAME" failed
--- no_error_log
[error]



=== TEST 18: init_body, append_body, finish_body
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.req.init_body()
        ngx.req.append_body("hello")
        ngx.req.append_body(", ")
        ngx.req.append_body("world")
        ngx.req.finish_body()
        ngx.say("data: ", ngx.req.get_body_data())
        ngx.say("content_length: ", ngx.var.content_length)
    }
}
--- request
POST /t
old body
--- response_body
data: hello, world
content_length: 12
--- no_error_log
[error]



=== TEST 19: init_body with a small buffer spills to a file
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.req.init_body(4)
        ngx.req.append_body("hello")
        ngx.req.append_body(", world")
        ngx.req.finish_body()
        ngx.say("data: ", ngx.req.get_body_data())
        local f = assert(io.open(ngx.req.get_body_file()))
        ngx.say("file: [", f:read("*a"), "]")
        f:close()
    }
}
--- request
POST /t
old
--- response_body
data: nil
file: [hello, world]
--- no_error_log
[error]



=== TEST 20: append_body without init_body
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        local ok, err = pcall(ngx.req.append_body, "x")
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
        ok, err = pcall(ngx.req.finish_body)
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
        ok, err = pcall(ngx.req.init_body, -1)
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
    }
}
--- request
POST /t
hello
--- response_body
false request_body not initialized
false request_body not initialized
false bad size argument: -1
--- no_error_log
[error]



=== TEST 21: read_body in a light thread while the entry thread waits
--- config
location = /t {
    content_by_lua_block {
        local t = ngx.thread.spawn(function()
            ngx.req.read_body()
            return ngx.req.get_body_data()
        end)
        local ok, data = ngx.thread.wait(t)
        ngx.say(ok, " ", data)
    }
}
--- request
POST /t
hello
--- response_body
true hello
--- no_error_log
[error]



=== TEST 22: a body that arrives slowly
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say("body: [", ngx.req.get_body_data(), "]")
    }
}
--- raw_request
POST /t HTTP/1.1
Host: localhost
Connection: close
Content-Length: 5

hello
--- response_body
body: [hello]
--- no_error_log
[error]



=== TEST 23: $request_length counts the body read
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say(tonumber(ngx.var.request_length) > 5)
    }
}
--- request
POST /t
hello
--- response_body
true
--- no_error_log
[error]



=== TEST 26: read_body in access_by_lua, the body seen in content
--- config
location = /t {
    access_by_lua_block {
        ngx.req.read_body()
        ngx.req.set_body_data(ngx.req.get_body_data() .. "!")
    }
    content_by_lua_block {
        ngx.say("body: ", ngx.req.get_body_data())
    }
}
--- request
POST /t
hello
--- response_body
body: hello!
--- no_error_log
[error]



=== TEST 27: lua_need_request_body with rewrite_by_lua
--- config
location = /t {
    lua_need_request_body on;
    rewrite_by_lua_block {
        ngx.ctx.body = ngx.req.get_body_data()
    }
    content_by_lua_block {
        ngx.say("rewrite saw: ", ngx.ctx.body)
    }
}
--- request
POST /t
hello
--- response_body
rewrite saw: hello
--- no_error_log
[error]
