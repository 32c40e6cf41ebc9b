# ngx.errlog: raw_log, get_sys_filter_level, and lua_capture_error_log with
# set_filter_level / get_logs. Debian's nginx lacks OpenResty's
# capture-error-log patch (its get_logs says "missing the capture error log
# patch for nginx"), so the blocks about the ring are moonwire_only.

=== TEST 1: raw_log writes the message as is, in the request's context
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        errlog.raw_log(ngx.WARN, "a raw warning")
        errlog.raw_log(ngx.INFO, "a raw info")
        ngx.say("done")
    }
}
--- request
GET /t
--- response_body
done
--- error_log
[warn]
a raw warning, client: 127.0.0.1, server: localhost, request: "GET /t HTTP/1.1", host: "localhost"
[info]
a raw info, client: 127.0.0.1
--- no_error_log
[lua]
[error]



=== TEST 2: raw_log argument errors
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        for _, args in ipairs({ { "4", "msg" }, { ngx.ERR, 5 }, { ngx.ERR }, { 9, "msg" }, { -1, "msg" } }) do
            ngx.say(select(2, pcall(errlog.raw_log, args[1], args[2])))
        end
    }
}
--- request
GET /t
--- response_body
bad argument #1 to 'raw_log' (must be a number)
bad argument #2 to 'raw_log' (must be a string)
bad argument #2 to 'raw_log' (must be a string)
bad log level
bad log level
--- no_error_log
[error]



=== TEST 3: raw_log at a level the error log filters out
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        errlog.raw_log(ngx.INFO, "hidden info")
        errlog.raw_log(ngx.ERR, "shown error")
        ngx.say("done")
    }
}
--- log_level: warn
--- request
GET /t
--- response_body
done
--- error_log
shown error
--- no_error_log
hidden info



=== TEST 4: get_sys_filter_level is the error_log level
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        local level = errlog.get_sys_filter_level()
        ngx.say(type(level), " ", level == ngx.INFO)
    }
}
--- log_level: info
--- request
GET /t
--- response_body
number true



=== TEST 5: get_sys_filter_level follows a location's error_log
--- config
location = /t {
    error_log logs/error.log crit;
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        ngx.say(errlog.get_sys_filter_level() == ngx.CRIT)
    }
}
--- request
GET /t
--- response_body
true



=== TEST 6: set_filter_level without a level
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        ngx.say(errlog.set_filter_level())
    }
}
--- request
GET /t
--- response_body
nilmissing "level" argument



=== TEST 7: get_logs without lua_capture_error_log
--- config
location = /t {
    content_by_lua_block {
        ngx.log(ngx.ERR, "enter 1")
        local errlog = require "ngx.errlog"
        local res, err = errlog.get_logs()
        if not res then
            error("FAILED " .. err)
        end
        ngx.say("log lines: ", #res / 3)
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
FAILED directive "lua_capture_error_log" is not set
--- moonwire_only



=== TEST 8: set_filter_level without lua_capture_error_log
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        ngx.say(errlog.set_filter_level(ngx.ERR))
    }
}
--- request
GET /t
--- response_body
nildirective "lua_capture_error_log" is not set
--- moonwire_only



=== TEST 9: captured lines are level, time and the whole log line
--- http_config
lua_capture_error_log 4m;
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        assert(errlog.set_filter_level(ngx.WARN))
        errlog.get_logs(1000) -- what earlier requests left
        local t0 = ngx.now()
        ngx.log(ngx.ERR, "first line")
        ngx.log(ngx.WARN, "second line")
        ngx.log(ngx.INFO, "an info line")
        local res = errlog.get_logs()
        ngx.say(#res)
        for i = 1, #res, 3 do
            local t = res[i + 1]
            ngx.say(res[i], " ", t >= t0 and t <= ngx.now(), " ", res[i + 2])
        end
    }
}
--- request
GET /t
--- response_body_like
^6
4 true \d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[error\] \d+#\d+: \*\d+ \[lua\] content_by_lua\(nginx\.conf:\d+\):6: first line, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", host: "localhost"
5 true \d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[warn\] \d+#\d+: \*\d+ \[lua\] content_by_lua\(nginx\.conf:\d+\):7: second line, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", host: "localhost"
$
--- error_log
an info line
--- moonwire_only



=== TEST 10: get_logs consumes; max and a table to fill
--- http_config
lua_capture_error_log 4m;
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        local clear = require "table.clear"
        assert(errlog.set_filter_level(ngx.ERR))
        errlog.get_logs(1000)
        ngx.log(ngx.ERR, "enter 1")
        ngx.log(ngx.ERR, "enter 22")
        ngx.log(ngx.ERR, "enter 333")
        local res = { "stale", "stale", "stale", "stale", "stale", "stale", "stale" }
        local got = errlog.get_logs(2, res)
        ngx.say(got == res, " ", #res / 3, " ", res[3]:match("enter %d+"), " ", res[6]:match("enter %d+"))
        clear(res)
        errlog.get_logs(2, res)
        ngx.say(#res / 3, " ", res[3]:match("enter %d+"))
        ngx.say(#errlog.get_logs(), " ", #errlog.get_logs(0))
    }
}
--- request
GET /t
--- response_body
true 2 enter 1 enter 22
1 enter 333
0 0
--- moonwire_only



=== TEST 11: set_filter_level and its errors
--- http_config
lua_capture_error_log 4m;
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        ngx.say(errlog.set_filter_level(9))
        ngx.say(errlog.set_filter_level(-1))
        ngx.say(pcall(errlog.set_filter_level, "warn"))
        ngx.say(errlog.set_filter_level(ngx.WARN))
        errlog.get_logs(1000)
        ngx.log(ngx.INFO, "-->1")
        ngx.log(ngx.WARN, "-->2")
        ngx.log(ngx.ERR, "-->3")
        local res = errlog.get_logs(1000)
        for i = 3, #res, 3 do
            ngx.say(res[i - 2], " ", res[i]:match("%-%->%d"))
        end
        assert(errlog.set_filter_level(ngx.DEBUG))
        ngx.log(ngx.INFO, "-->4")
        res = errlog.get_logs(1000)
        ngx.say(res[1], " ", res[3]:match("%-%->%d"))
    }
}
--- log_level: info
--- request
GET /t
--- response_body
nilbad log level: 9
nilbad log level: -1
falsebad argument #1 to 'set_filter_level' (number expected, got string)
true
5 -->2
4 -->3
7 -->4
--- moonwire_only



=== TEST 12: only what the error log writes is captured
--- http_config
lua_capture_error_log 4m;
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        errlog.get_logs(1000)
        ngx.log(ngx.NOTICE, "a notice")
        ngx.log(ngx.ERR, "an error")
        local res = errlog.get_logs(1000)
        ngx.say(#res / 3, " ", res[3]:match("an error"))
    }
}
--- log_level: warn
--- request
GET /t
--- response_body
1 an error
--- moonwire_only



=== TEST 13: lines from other tasks and raw_log are captured
--- http_config
lua_capture_error_log 4m;
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        assert(errlog.set_filter_level(ngx.WARN))
        errlog.get_logs(1000)
        ngx.timer.at(0, function()
            ngx.log(ngx.ERR, "from a timer")
        end)
        ngx.sleep(0.05)
        errlog.raw_log(ngx.WARN, "raw line")
        local res = errlog.get_logs(1000)
        for i = 3, #res, 3 do
            ngx.say(res[i - 2], " ", res[i]:match("%[lua%] .*") or res[i]:match("raw line.*"))
        end
    }
}
--- request
GET /t
--- response_body_like
^4 \[lua\] content_by_lua\(nginx\.conf:\d+\):6: from a timer(, context: ngx\.timer)?
5 raw line, client: 127\.0\.0\.1, server: localhost, request: "GET /t HTTP/1\.1", host: "localhost"
$
--- moonwire_only



=== TEST 14: a small ring keeps the newest lines that fit
--- http_config
lua_capture_error_log 4k;
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        assert(errlog.set_filter_level(ngx.ERR))
        errlog.get_logs(1000)
        for i = 1, 100 do
            ngx.log(ngx.ERR, "--> ", i)
        end
        local res = errlog.get_logs(1000)
        local bytes, n = 0, #res / 3
        for i = 3, #res, 3 do
            bytes = bytes + #res[i] + 16
        end
        ngx.say(n > 10 and n < 40, " ", bytes <= 4096, " ", bytes + #res[3] + 16 > 4096)
        ngx.say(res[#res]:match("%-%-> %d+"), " ", res[3]:match("%-%-> (%d+)") == tostring(101 - n))
    }
}
--- request
GET /t
--- response_body
true true true
--> 100 true
--- moonwire_only



=== TEST 15: a line bigger than the ring is not captured
--- http_config
lua_capture_error_log 4k;
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        assert(errlog.set_filter_level(ngx.ERR))
        errlog.get_logs(1000)
        ngx.log(ngx.ERR, "small one")
        ngx.log(ngx.ERR, "big one ", string.rep("a", 4096))
        local res = errlog.get_logs(1000)
        ngx.say(#res / 3, " ", res[3]:match("small one"))
    }
}
--- request
GET /t
--- response_body
1 small one
--- moonwire_only



=== TEST 16: get_sys_filter_level in init_by_lua
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
init_by_lua_block {
    require("state").level = require("ngx.errlog").get_sys_filter_level()
}
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local level = require("state").level
        -- OpenResty: the level of the startup log (notice); moonwire: the configured one
        ngx.say(type(level), " ", level >= ngx.WARN)
    }
}
--- log_level: warn
--- request
GET /t
--- response_body
number true



=== TEST 17: get_logs with max < 1 reads nothing, even without lua_capture_error_log
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        local mine = { "kept" }
        ngx.say(#errlog.get_logs(0), " ", errlog.get_logs(-1, mine) == mine, " ", mine[1])
    }
}
--- request
GET /t
--- response_body
0 true kept



=== TEST 18: get_logs argument errors
--- http_config
lua_capture_error_log 4k;
--- config
location = /t {
    content_by_lua_block {
        local errlog = require "ngx.errlog"
        ngx.say(select(2, pcall(errlog.get_logs, "10")))
        ngx.say(select(2, pcall(errlog.get_logs, 10, "t")))
    }
}
--- request
GET /t
--- response_body
bad argument #1 to 'get_logs' (number expected, got string)
bad argument #2 to 'get_logs' (table expected, got string)
--- moonwire_only



=== TEST 19: log_by_lua reads what the request's content phase logged
--- http_config
lua_capture_error_log 4m;
--- config
location = /t {
    content_by_lua_block {
        require("ngx.errlog").get_logs(1000)
        ngx.log(ngx.ERR, "marker from content")
        ngx.say("ok")
    }
    log_by_lua_block {
        local res = require("ngx.errlog").get_logs(1000)
        local n = 0
        for i = 3, #res, 3 do
            if res[i]:find("marker from content", 1, true) then
                n = n + 1
            end
        end
        ngx.log(ngx.WARN, "log phase found ", n, " line(s)")
    }
}
--- request
GET /t
--- response_body
ok
--- error_log
log phase found 1 line(s)
--- moonwire_only
