# lua_blocking_warn_threshold: a [warn] names the request, the location and
# the Lua line of code that keeps the worker busy without yielding.
# moonwire only: OpenResty has no such watchdog.

=== TEST 1: a busy loop of 300 ms is reported with its line
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        ngx.update_time()
        local t0 = ngx.now()
        while ngx.now() - t0 < 0.3 do ngx.update_time() end
        ngx.say("done")
    }
}
--- request
GET /t
--- response_body
done
--- error_log
without yielding (lua_blocking_warn_threshold 100ms), at content_by_lua(nginx.conf:
):4, location: "= /t", client: 127.0.0.1, server: localhost, request: "GET /t HTTP/1.1"
--- no_error_log
[error]



=== TEST 2: sleeping is not blocking
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        ngx.sleep(0.3)
        ngx.say("slept")
    }
}
--- request
GET /t
--- response_body
slept
--- no_error_log
without yielding



=== TEST 3: many short runs between yields are not blocking
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        ngx.update_time()
        local t0 = ngx.now()
        while ngx.now() - t0 < 0.3 do
            ngx.update_time()
            local t1 = ngx.now()
            while ngx.now() - t1 < 0.02 do
                ngx.update_time()
            end
            ngx.sleep(0)
        end
        ngx.say("done")
    }
}
--- request
GET /t
--- response_body
done
--- no_error_log
without yielding



=== TEST 4: a JIT-compiled loop is reported too
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        local x, t0 = 0, os.clock()
        repeat
            for i = 1, 1e6 do x = (x + i) % 7 end
        until os.clock() - t0 > 0.3
        ngx.say(x >= 0)
    }
}
--- request
GET /t
--- response_body
true
--- error_log
without yielding (lua_blocking_warn_threshold 100ms), at content_by_lua(nginx.conf:
location: "= /t"



=== TEST 5: the threshold is configurable
--- moonwire_only
--- http_config
lua_blocking_warn_threshold 30ms;
--- config
location ~ ^/busy {
    content_by_lua_block {
        ngx.update_time()
        local t0 = ngx.now()
        while ngx.now() - t0 < 0.1 do ngx.update_time() end
        ngx.say("done")
    }
}
--- request
GET /busy/1
--- response_body
done
--- error_log
without yielding (lua_blocking_warn_threshold 30ms), at content_by_lua(nginx.conf:
):4, location: "~ ^/busy", client: 127.0.0.1, server: localhost, request: "GET /busy/1 HTTP/1.1"



=== TEST 6: off disables it
--- moonwire_only
--- http_config
lua_blocking_warn_threshold off;
--- config
location = /t {
    content_by_lua_block {
        ngx.update_time()
        local t0 = ngx.now()
        while ngx.now() - t0 < 0.3 do
            ngx.update_time()
        end
        ngx.say("done")
    }
}
--- request
GET /t
--- response_body
done
--- no_error_log
without yielding



=== TEST 7: the line inside a function of a required module
--- moonwire_only
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> spin.lua
local _M = {}

function _M.spin(secs)
    ngx.update_time()
    local t0 = ngx.now()
    while ngx.now() - t0 < secs do ngx.update_time() end
end

return _M
--- config
location = /t {
    content_by_lua_block {
        require("spin").spin(0.3)
        ngx.say("done")
    }
}
--- request
GET /t
--- response_body
done
--- error_log
without yielding (lua_blocking_warn_threshold 100ms), at /
/html/spin.lua:6, location: "= /t", client: 127.0.0.1



=== TEST 8: a blocking call from a timer names the timer context
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        ngx.timer.at(0, function()
            ngx.update_time()
            local t0 = ngx.now()
            while ngx.now() - t0 < 0.3 do ngx.update_time() end
        end)
        ngx.say("scheduled")
    }
}
--- request
GET /t
--- response_body
scheduled
--- wait: 0.5
--- error_log
without yielding (lua_blocking_warn_threshold 100ms), at content_by_lua(nginx.conf:
):5, context: ngx.timer



=== TEST 9: a blocking C call is found at the first Lua line after it
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        local ok = os.execute("sleep 0.3")
        ngx.say("back")
    }
}
--- request
GET /t
--- response_body
back
--- error_log
without yielding (lua_blocking_warn_threshold 100ms), at content_by_lua(nginx.conf:
):3, location: "= /t"
