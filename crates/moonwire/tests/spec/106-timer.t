# ngx.timer.at / ngx.timer.every / running_count / pending_count: callbacks
# get premature and the extra arguments, run in their own "light thread"
# detached from the request (the "timer" phase), may sleep and use
# cosockets. The handler and its timers share data through a module table
# (state.lua). Worker shutdown and HUP (premature = true) are not covered.

=== TEST 1: a zero-delay timer runs after the handler yields; at() returns 1
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        state.log = {}
        local ok, err = ngx.timer.at(0, function(premature, a, b)
            table.insert(state.log, "timer: " .. tostring(premature) .. " " .. a .. " " .. b)
        end, "arg1", 2)
        ngx.say("at: ", ok, " ", err)
        table.insert(state.log, "handler before sleep")
        ngx.sleep(0.01)
        table.insert(state.log, "handler after sleep")
        ngx.say(table.concat(state.log, "\n"))
    }
}
--- request
GET /t
--- response_body
at: 1 nil
handler before sleep
timer: false arg1 2
handler after sleep
--- no_error_log
[error]



=== TEST 2: the delay is respected
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        ngx.update_time()
        local t0 = ngx.now()
        state.fired = nil
        assert(ngx.timer.at(0.1, function()
            ngx.update_time()
            state.fired = ngx.now() - t0
        end))
        ngx.sleep(0.05)
        ngx.say("after 50ms: ", state.fired)
        ngx.sleep(0.15)
        ngx.say("after 200ms: ", state.fired ~= nil and state.fired >= 0.09 and state.fired < 0.19)
    }
}
--- request
GET /t
--- response_body
after 50ms: nil
after 200ms: true
--- no_error_log
[error]



=== TEST 3: the phase in a timer is "timer"; output APIs are disabled there
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        state.phase, state.say_err = nil, nil
        assert(ngx.timer.at(0, function()
            state.phase = ngx.get_phase()
            local ok, err = pcall(ngx.say, "hi")
            state.say_err = err
        end))
        ngx.sleep(0.02)
        ngx.say(state.phase)
        ngx.say(state.say_err)
    }
}
--- request
GET /t
--- response_body
timer
API disabled in the context of ngx.timer
--- no_error_log
[error]



=== TEST 4: sleeping and cosockets inside a timer
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        state.reply = nil
        assert(ngx.timer.at(0, function(premature, port)
            ngx.sleep(0.01)
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", port))
            assert(sock:send("from the timer\n"))
            state.reply = sock:receive()
            sock:close()
        end, $TEST_NGINX_TCP_PORT))
        for i = 1, 50 do
            if state.reply then break end
            ngx.sleep(0.01)
        end
        ngx.say("timer got: ", state.reply)
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
echo_lines
--- tcp_query
from the timer
--- response_body
timer got: from the timer
--- no_error_log
[error]



=== TEST 5: an error in a timer callback is logged
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- config
location = /t {
    content_by_lua_block {
        assert(ngx.timer.at(0, function()
            error("timer boom")
        end))
        ngx.sleep(0.02)
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_body
ok
--- error_log
timer boom
context: ngx.timer



=== TEST 6: a timer keeps running after the request that created it has finished
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- config
location = /t {
    content_by_lua_block {
        assert(ngx.timer.at(0.05, function()
            ngx.sleep(0.05)
            ngx.log(ngx.WARN, "timer finished after the request")
        end))
        ngx.say("request done")
    }
}
--- request
GET /t
--- response_body
request done
--- wait: 0.2
--- error_log
timer finished after the request
--- no_error_log
[error]



=== TEST 7: ngx.timer.every runs again and again
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        local key = tostring(ngx.now()) .. tostring(math.random())
        state[key] = {}
        local ok, err = ngx.timer.every(0.02, function(premature, k, tag)
            local l = state[k]
            if #l < 100 then
                l[#l + 1] = tag .. tostring(premature)
            end
        end, key, "tick:")
        ngx.say("every: ", ok, " ", err)
        ngx.sleep(0.15)
        local n = #state[key]
        ngx.say("ticks: ", n >= 4 and n <= 8, " first ", state[key][1])
    }
}
--- request
GET /t
--- response_body
every: 1 nil
ticks: true first tick:false
--- no_error_log
[error]



=== TEST 8: pending_count and running_count
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        ngx.say("start: ", ngx.timer.pending_count(), " ", ngx.timer.running_count())
        assert(ngx.timer.at(0.05, function() end))
        assert(ngx.timer.at(0.05, function() end))
        assert(ngx.timer.at(0, function()
            state.inside = ngx.timer.running_count() .. " " .. ngx.timer.pending_count()
            ngx.sleep(0.04)
        end))
        ngx.say("created: ", ngx.timer.pending_count(), " ", ngx.timer.running_count())
        ngx.sleep(0.01)
        ngx.say("inside the zero timer: ", state.inside)
        ngx.say("one running: ", ngx.timer.pending_count(), " ", ngx.timer.running_count())
        ngx.sleep(0.1)
        ngx.say("all done: ", ngx.timer.pending_count(), " ", ngx.timer.running_count())
    }
}
--- request
GET /t
--- response_body
start: 0 0
created: 3 0
inside the zero timer: 1 2
one running: 2 1
all done: 0 0
--- no_error_log
[error]



=== TEST 9: lua_max_pending_timers
--- http_config
lua_max_pending_timers 2;
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.timer.at(0.01, function() end))
        ngx.say(ngx.timer.at(0.01, function() end))
        ngx.say(ngx.timer.at(0.01, function() end))
        ngx.sleep(0.05)
        ngx.say(ngx.timer.at(0.01, function() end))
        ngx.sleep(0.03)
    }
}
--- request
GET /t
--- response_body
1
1
niltoo many pending timers
1
--- no_error_log
[error]



=== TEST 10: lua_max_running_timers
--- http_config
lua_max_running_timers 1;
--- config
location = /t {
    content_by_lua_block {
        assert(ngx.timer.at(0, function() ngx.sleep(0.05) end))
        assert(ngx.timer.at(0, function() ngx.sleep(0.05) end))
        ngx.sleep(0.1)
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_body
ok
--- error_log
1 lua_max_running_timers are not enough



=== TEST 11: a timer created by a timer
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        state.chain = {}
        local function step(premature, n)
            table.insert(state.chain, n)
            if n < 3 then
                assert(ngx.timer.at(0.01, step, n + 1))
            end
        end
        assert(ngx.timer.at(0, step, 1))
        ngx.sleep(0.1)
        ngx.say(table.concat(state.chain, " "))
    }
}
--- request
GET /t
--- response_body
1 2 3
--- no_error_log
[error]



=== TEST 12: a socket of the request used in a timer: bad request
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        state.err = nil
        local sock = ngx.socket.tcp()
        assert(sock:connect("127.0.0.1", $TEST_NGINX_TCP_PORT))
        assert(ngx.timer.at(0, function()
            local ok, err = pcall(sock.send, sock, "from timer\n")
            state.err = tostring(ok) .. " " .. tostring(err)
        end))
        ngx.sleep(0.02)
        ngx.say(state.err)
        sock:close()
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_script
hold
--- response_body_like
^false .*bad request
$
--- no_error_log
[error]



=== TEST 13: bad arguments
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.timer.at, 0, "not a function")
        ngx.say(ok, " ", err)
        ok, err = pcall(ngx.timer.every, 0, function() end)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body_like
^false .*Lua function expected.*
false delay cannot be zero
$
--- no_error_log
[error]



=== TEST 14: a timer created in log_by_lua does the I/O the log phase cannot
--- config
location = /t {
    content_by_lua_block {
        ngx.say("response")
    }
    log_by_lua_block {
        local port = $TEST_NGINX_TCP_PORT
        assert(ngx.timer.at(0, function()
            local sock = ngx.socket.tcp()
            assert(sock:connect("127.0.0.1", port))
            assert(sock:send("logged " .. ngx.get_phase() .. "\n"))
            sock:close()
        end))
    }
}
--- request
GET /t
--- tcp_listen: $TEST_NGINX_TCP_PORT
--- tcp_query
logged timer
--- tcp_reply:
--- response_body
response
--- no_error_log
[error]



=== TEST 15: a timer created in init_worker_by_lua
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
init_worker_by_lua_block {
    local state = require "state"
    ngx.timer.at(0, function(premature, x)
        state.from_init_worker = "ran with " .. x .. " in phase " .. ngx.get_phase()
    end, "arg")
}
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        ngx.say(require("state").from_init_worker)
    }
}
--- request
GET /t
--- response_body
ran with arg in phase timer
--- no_error_log
[error]



=== TEST 16: ngx.timer.at returns before the callback runs, even with a zero delay
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        state.ran = false
        assert(ngx.timer.at(0, function() state.ran = true end))
        ngx.say("right after at: ", state.ran)
        ngx.sleep(0)
        ngx.say("after a yield: ", state.ran)
    }
}
--- request
GET /t
--- response_body
right after at: false
after a yield: true
--- no_error_log
[error]



=== TEST 17: light threads inside a timer
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        state.res = nil
        assert(ngx.timer.at(0, function()
            local a = ngx.thread.spawn(function() ngx.sleep(0.01) return "a" end)
            local b = ngx.thread.spawn(function() ngx.sleep(0.02) return "b" end)
            local _, ra = ngx.thread.wait(a)
            local _, rb = ngx.thread.wait(b)
            state.res = ra .. rb
        end))
        ngx.sleep(0.05)
        ngx.say(state.res)
    }
}
--- request
GET /t
--- response_body
ab
--- no_error_log
[error]
