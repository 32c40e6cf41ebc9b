# The request phases: order, ngx.ctx across them, ngx.exit per phase,
# set / set_by_lua, header and body filters, log_by_lua.

=== TEST 1: every phase of one request, in order, sharing ngx.ctx
--- config
location = /t {
    set_by_lua_block $x { return "x" }
    rewrite_by_lua_block {
        ngx.ctx.trace = { ngx.get_phase() }
    }
    access_by_lua_block {
        table.insert(ngx.ctx.trace, ngx.get_phase())
    }
    content_by_lua_block {
        table.insert(ngx.ctx.trace, ngx.get_phase())
        ngx.say("hi")
        table.insert(ngx.ctx.trace, "said")
    }
    header_filter_by_lua_block {
        table.insert(ngx.ctx.trace, ngx.get_phase())
        ngx.header["X-Trace"] = table.concat(ngx.ctx.trace, " ")
    }
    body_filter_by_lua_block {
        table.insert(ngx.ctx.trace, ngx.get_phase())
    }
    log_by_lua_block {
        table.insert(ngx.ctx.trace, ngx.get_phase())
        ngx.log(ngx.WARN, "trace: ", table.concat(ngx.ctx.trace, " "))
    }
}
--- request
GET /t
--- response_body
hi
--- response_headers
X-Trace: rewrite access content header_filter
--- error_log
trace: rewrite access content header_filter body_filter said body_filter log
--- no_error_log
[error]



=== TEST 2: ngx.exit(ngx.OK) in rewrite and access goes on to content
--- config
location = /t {
    rewrite_by_lua_block { ngx.ctx.n = 1 ngx.exit(ngx.OK) }
    access_by_lua_block { ngx.ctx.n = ngx.ctx.n + 1 ngx.exit(ngx.OK) }
    content_by_lua_block { ngx.say(ngx.ctx.n) }
}
--- request
GET /t
--- response_body
2
--- no_error_log
[error]



=== TEST 3: ngx.exit(403) in access ends the request with the error page
--- config
location = /t {
    access_by_lua_block { ngx.exit(403) }
    content_by_lua_block { ngx.say("not reached") }
}
--- request
GET /t
--- error_code: 403
--- response_body_like: 403 Forbidden
--- no_error_log
[error]



=== TEST 4: output and ngx.exit(200) in rewrite skips the content handler
--- config
location = /t {
    rewrite_by_lua_block {
        ngx.say("from rewrite")
        ngx.exit(200)
    }
    content_by_lua_block { ngx.say("not reached") }
}
--- request
GET /t
--- response_body
from rewrite
--- no_error_log
[error]



=== TEST 5: ngx.exit(ngx.HTTP_OK) in access without output: empty 200
--- config
location = /t {
    access_by_lua_block { ngx.exit(ngx.HTTP_OK) }
    content_by_lua_block { ngx.say("not reached") }
}
--- request
GET /t
--- response_body chomp
--- no_error_log
[error]



=== TEST 6: a Lua error in access gives 500 and the traceback
--- config
location = /t {
    access_by_lua_block { error("denied by bug") }
    content_by_lua_block { ngx.say("not reached") }
}
--- request
GET /t
--- error_code: 500
--- error_log
denied by bug
stack traceback:



=== TEST 7: set and set_by_lua with arguments, read from Lua and return
--- config
location = /t {
    set $a "hello";
    set $b "$a, $arg_name";
    set_by_lua $c 'return ngx.arg[1] .. "!"' $b;
    content_by_lua_block {
        ngx.say(ngx.var.a, "|", ngx.var.b, "|", ngx.var.c)
    }
}
--- request
GET /t?name=lua
--- response_body
hello|hello, lua|hello, lua!
--- no_error_log
[error]



=== TEST 8: set_by_lua with $arg values feeding return
--- config
location = /t {
    set_by_lua $res 'return ngx.arg[1] * 2' $arg_n;
    return 200 "double: $res\n";
}
--- request
GET /t?n=21
--- response_body
double: 42
--- no_error_log
[error]



=== TEST 9: variables declared by set are writable from Lua
--- config
location = /t {
    set $mine "";
    rewrite_by_lua_block { ngx.var.mine = "written in rewrite" }
    content_by_lua_block { ngx.say(ngx.var.mine) }
}
--- request
GET /t
--- response_body
written in rewrite
--- no_error_log
[error]



=== TEST 10: set_by_lua cannot yield
--- config
location = /t {
    set_by_lua_block $x { ngx.sleep(0.001) return "x" }
    content_by_lua_block { ngx.say(ngx.var.x) }
}
--- request
GET /t
--- error_code: 500
--- error_log
API disabled in the context of set_by_lua*



=== TEST 11: header_filter_by_lua changes status and headers of a Lua response
--- config
location = /t {
    content_by_lua_block { ngx.say("body") }
    header_filter_by_lua_block {
        ngx.status = 201
        ngx.header["X-Filtered"] = "yes"
        ngx.header.content_length = nil
    }
}
--- request
GET /t
--- error_code: 201
--- response_headers
X-Filtered: yes
--- response_body
body
--- no_error_log
[error]



=== TEST 12: header_filter_by_lua runs for error pages too
--- config
location = /t {
    return 404;
    header_filter_by_lua_block { ngx.header["X-Seen"] = ngx.status }
}
--- request
GET /t
--- error_code: 404
--- response_headers
X-Seen: 404
--- no_error_log
[error]



=== TEST 13: body_filter_by_lua rewrites every chunk
--- config
location = /t {
    content_by_lua_block {
        ngx.say("one")
        ngx.say("two")
    }
    body_filter_by_lua_block {
        ngx.arg[1] = string.upper(ngx.arg[1])
    }
}
--- request
GET /t
--- response_body
ONE
TWO
--- no_error_log
[error]



=== TEST 14: body_filter_by_lua truncates with ngx.arg[2]
--- moonwire_only: the reference nginx 1.22.1 + lua-nginx-module 0.10.23 drops the connection here
--- config
location = /t {
    content_by_lua_block {
        ngx.say("keep")
        ngx.say("drop")
        ngx.say("drop too")
    }
    body_filter_by_lua_block {
        if ngx.arg[1] == "drop\n" then
            ngx.arg[1] = ""
            ngx.arg[2] = true
        end
    }
}
--- request
GET /t
--- response_body
keep
--- no_error_log
[error]



=== TEST 15: body_filter_by_lua sees eof and can append
--- config
location = /t {
    content_by_lua_block { ngx.print("a") }
    body_filter_by_lua_block {
        if ngx.arg[2] then
            ngx.arg[1] = ngx.arg[1] .. "[end]"
        end
    }
}
--- request
GET /t
--- response_body chomp
a[end]
--- no_error_log
[error]



=== TEST 16: body_filter_by_lua over a static file
--- user_files
>>> f.txt
static text
--- config
location = /f.txt {
    header_filter_by_lua_block { ngx.header.content_length = nil }
    body_filter_by_lua_block {
        ngx.arg[1] = string.gsub(ngx.arg[1], "static", "filtered")
    }
}
--- request
GET /f.txt
--- response_body
filtered text
--- no_error_log
[error]



=== TEST 17: output API in header_filter is disabled
--- config
location = /t {
    content_by_lua_block { ngx.say("ok") }
    header_filter_by_lua_block {
        local ok, err = pcall(ngx.say, "x")
        ngx.header["X-Err"] = err
    }
}
--- request
GET /t
--- response_headers
X-Err: API disabled in the context of header_filter_by_lua*
--- response_body
ok



=== TEST 18: log_by_lua sees the final status and variables
--- config
location = /t {
    content_by_lua_block { ngx.status = 202 ngx.say("x") }
    log_by_lua_block {
        ngx.log(ngx.WARN, "status ", ngx.status, " uri ", ngx.var.uri, " sent ", ngx.var.body_bytes_sent)
    }
}
--- request
GET /t
--- error_code: 202
--- error_log
status 202 uri /t sent 12



=== TEST 19: a Lua error in log_by_lua is logged; the response is already out
--- config
location = /t {
    content_by_lua_block { ngx.say("fine") }
    log_by_lua_block { error("log boom") }
}
--- request
GET /t
--- response_body
fine
--- error_log
failed to run log_by_lua*: log_by_lua(nginx.conf:
log boom



=== TEST 20: phase handlers are inherited from server to location
--- config
rewrite_by_lua_block { ngx.ctx.from = "server" }
location = /t {
    content_by_lua_block { ngx.say(ngx.ctx.from) }
}
--- request
GET /t
--- response_body
server
--- no_error_log
[error]



=== TEST 21: ngx.exec to another location with args; ngx.ctx does not follow
--- config
location = /t {
    rewrite_by_lua_block {
        ngx.ctx.x = 1
        ngx.exec("/target", "a=1&b=2")
    }
}
location = /target {
    content_by_lua_block {
        ngx.say("uri ", ngx.var.uri, " args ", ngx.var.args, " ctx ", tostring(ngx.ctx.x))
    }
}
--- request
GET /t
--- response_body
uri /target args a=1&b=2 ctx nil
--- no_error_log
[error]



=== TEST 22: ngx.exec with a table of args and a query in the uri
--- config
location = /t {
    content_by_lua_block {
        ngx.exec("/target?x=1", { y = 2 })
    }
}
location = /target {
    content_by_lua_block { ngx.say(ngx.var.args) }
}
--- request
GET /t
--- response_body
x=1&y=2
--- no_error_log
[error]



=== TEST 23: ngx.exec reaches internal and named locations
--- config
location = /t {
    access_by_lua_block {
        if ngx.var.arg_named then
            ngx.exec("@named")
        end
        ngx.exec("/hidden")
    }
}
location /hidden {
    internal;
    content_by_lua_block { ngx.say("hidden ", ngx.var.uri) }
}
location @named {
    content_by_lua_block { ngx.say("named ", ngx.var.uri) }
}
--- request
GET /t?named=1
--- response_body
named /t
--- no_error_log
[error]



=== TEST 24: an internal location is 404 from outside
--- config
location /hidden {
    internal;
    content_by_lua_block { ngx.say("hidden") }
}
--- request
GET /hidden
--- error_code: 404



=== TEST 25: ngx.exec after the headers went out raises
--- config
location = /t {
    content_by_lua_block {
        ngx.say("first")
        local ok, err = pcall(ngx.exec, "/other")
        ngx.say(err)
    }
}
--- request
GET /t
--- response_body
first
attempt to call ngx.exec after sending out response headers



=== TEST 26: an ngx.exec loop ends with 500
--- config
location = /t {
    rewrite_by_lua_block { ngx.exec("/t") }
}
--- request
GET /t
--- error_code: 500
--- error_log
rewrite or internal redirection cycle while internally redirecting to "/t"



=== TEST 27: init_by_lua globals and modules are visible to every request
--- http_config
init_by_lua_block {
    shared_answer = 42
    jit_mod = require "jit"
}
--- config
location = /t {
    content_by_lua_block {
        ngx.say(shared_answer, " ", type(jit_mod.version))
    }
}
--- request
GET /t
--- response_body
42 string
--- no_error_log
[error]



=== TEST 28: init_worker_by_lua runs in each worker and may start timers
--- http_config
init_worker_by_lua_block {
    worker_started = ngx.get_phase()
    ngx.timer.at(0, function() timer_ran = true end)
}
--- config
location = /t {
    content_by_lua_block {
        ngx.sleep(0.05)
        ngx.say(worker_started, " ", tostring(timer_ran))
    }
}
--- request
GET /t
--- response_body
init_worker true
--- no_error_log
[error]



=== TEST 29: ngx.get_phase in init_by_lua
--- http_config
init_by_lua_block { init_phase = ngx.get_phase() }
--- config
location = /t {
    content_by_lua_block { ngx.say(init_phase) }
}
--- request
GET /t
--- response_body
init



=== TEST 30: access and content on the same request after a rewrite sleep
--- config
location = /t {
    rewrite_by_lua_block { ngx.sleep(0.01) ngx.ctx.r = "slept" }
    access_by_lua_block { ngx.sleep(0.01) ngx.ctx.a = "again" }
    content_by_lua_block { ngx.say(ngx.ctx.r, " ", ngx.ctx.a) }
}
--- request
GET /t
--- response_body
slept again
--- no_error_log
[error]



=== TEST 31: cosockets in log_by_lua (moonwire allows it)
--- moonwire_only
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_query: from log
--- tcp_reply: ok
--- config
location = /t {
    content_by_lua_block { ngx.say("done") }
    log_by_lua_block {
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(sock:send("from log"))
        local line = sock:receive("*a")
        ngx.log(ngx.WARN, "log phase got: ", line)
        sock:close()
    }
}
--- request
GET /t
--- response_body
done
--- wait: 0.2
--- error_log
log phase got: ok



=== TEST 32: a body filter that sleeps (moonwire allows it)
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        ngx.say("a")
        ngx.say("b")
    }
    body_filter_by_lua_block {
        ngx.sleep(0.001)
        ngx.arg[1] = "<" .. ngx.arg[1] .. ">"
    }
}
--- request
GET /t
--- response_body chomp
<a
><b
><>
--- no_error_log
[error]



=== TEST 33: ngx.redirect from rewrite_by_lua
--- config
location = /t {
    rewrite_by_lua_block { ngx.redirect("/elsewhere", 301) }
    content_by_lua_block { ngx.say("not reached") }
}
--- request
GET /t
--- error_code: 301
--- response_headers
Location: /elsewhere
--- no_error_log
[error]



=== TEST 34: ngx.redirect is not allowed in log_by_lua
--- config
location = /t {
    content_by_lua_block { ngx.say("ok") }
    log_by_lua_block {
        local ok, err = pcall(ngx.redirect, "/x")
        ngx.log(ngx.WARN, "redirect: ", err)
    }
}
--- request
GET /t
--- response_body
ok
--- error_log
redirect: API disabled in the context of log_by_lua*



=== TEST 35: server-level set and return run before the location
--- config
set $srv "server-level";
location = /t {
    content_by_lua_block { ngx.say(ngx.var.srv) }
}
--- request
GET /t
--- response_body
server-level
--- no_error_log
[error]



=== TEST 36: ngx.exit(ngx.ERROR) in header_filter drops the connection
--- config
location = /t {
    content_by_lua_block { ngx.say("body") }
    header_filter_by_lua_block { ngx.exit(ngx.ERROR) }
}
--- request
GET /t
--- ignore_response
--- abort



=== TEST 37: a request's globals are shared by its phases, not by other requests
--- moonwire_only: OpenResty shares one _G between all requests (lua_request_globals)
--- config
location = /t {
    rewrite_by_lua_block { my_global = (my_global or 0) + 1 }
    content_by_lua_block { ngx.say(my_global) }
}
--- request
GET /t
--- response_body
1
