# ngx.on_abort and lua_check_client_abort. The client gives up after
# --- timeout and closes the connection (--- abort); what happened on the
# server is read from the error log after --- wait.

=== TEST 1: on_abort needs lua_check_client_abort on
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.on_abort(function() end))
    }
}
--- request
GET /t
--- response_body
nillua_check_client_abort is off
--- no_error_log
[error]



=== TEST 2: on_abort returns 1; a second call is refused
--- config
lua_check_client_abort on;
location = /t {
    content_by_lua_block {
        ngx.say(ngx.on_abort(function() end))
        ngx.say(ngx.on_abort(function() end))
    }
}
--- request
GET /t
--- response_body
1
nilduplicate call
--- no_error_log
[error]



=== TEST 3: the callback is not called when the client stays
--- config
lua_check_client_abort on;
location = /t {
    content_by_lua_block {
        assert(ngx.on_abort(function()
            ngx.log(ngx.ERR, "on_abort called")
        end))
        ngx.sleep(0.05)
        ngx.say("done")
    }
}
--- request
GET /t
--- response_body
done
--- no_error_log
on_abort called
[error]



=== TEST 4: the client goes away: the callback runs, its ngx.exit ends the request
--- config
lua_check_client_abort on;
location = /t {
    content_by_lua_block {
        assert(ngx.on_abort(function()
            ngx.log(ngx.WARN, "on_abort called")
            ngx.exit(499)
        end))
        ngx.sleep(0.3)
        ngx.log(ngx.WARN, "main handler not aborted")
    }
}
--- request
GET /t
--- abort
--- timeout: 0.1
--- wait: 0.25
--- ignore_response
--- error_log
on_abort called
--- no_error_log
main handler not aborted
[error]



=== TEST 5: a callback that does not exit lets the handler go on
--- config
lua_check_client_abort on;
location = /t {
    content_by_lua_block {
        assert(ngx.on_abort(function()
            ngx.log(ngx.WARN, "on_abort called")
        end))
        ngx.sleep(0.2)
        ngx.log(ngx.WARN, "main handler went on")
    }
}
--- request
GET /t
--- abort
--- timeout: 0.1
--- wait: 0.15
--- ignore_response
--- error_log
on_abort called
main handler went on
--- no_error_log
[error]



=== TEST 6: no callback: the request is aborted when the client goes away
--- config
lua_check_client_abort on;
location = /t {
    content_by_lua_block {
        ngx.sleep(0.2)
        ngx.log(ngx.WARN, "main handler not aborted")
    }
}
--- request
GET /t
--- abort
--- timeout: 0.1
--- wait: 0.15
--- ignore_response
--- no_error_log
main handler not aborted
[error]



=== TEST 7: lua_check_client_abort off: the handler runs to its end
--- config
location = /t {
    content_by_lua_block {
        ngx.sleep(0.2)
        ngx.log(ngx.WARN, "main handler went on")
    }
}
--- request
GET /t
--- abort
--- timeout: 0.1
--- wait: 0.15
--- ignore_response
--- error_log
main handler went on
--- no_error_log
[error]



=== TEST 8: the callback runs as a light thread and may use cosockets
--- config
lua_check_client_abort on;
location = /t {
    content_by_lua_block {
        local port = $TEST_NGINX_TCP_PORT
        assert(ngx.on_abort(function()
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", port))
            assert(sock:send("client went away\n"))
            sock:close()
            ngx.exit(499)
        end))
        ngx.sleep(0.4)
    }
}
--- request
GET /t
--- abort
--- timeout: 0.1
--- wait: 0.1
--- ignore_response
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_query
client went away
--- tcp_reply:
--- no_error_log
[error]



=== TEST 9: on_abort in rewrite_by_lua
--- config
lua_check_client_abort on;
location = /t {
    rewrite_by_lua_block {
        assert(ngx.on_abort(function()
            ngx.log(ngx.WARN, "on_abort called in rewrite")
            ngx.exit(499)
        end))
        ngx.sleep(0.3)
    }
    content_by_lua_block {
        ngx.log(ngx.WARN, "content phase reached")
    }
}
--- request
GET /t
--- abort
--- timeout: 0.1
--- wait: 0.25
--- ignore_response
--- error_log
on_abort called in rewrite
--- no_error_log
content phase reached
[error]



=== TEST 10: on_abort needs a function
--- config
lua_check_client_abort on;
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.on_abort, "nope")
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body_like
^false .*
$
--- no_error_log
[error]
