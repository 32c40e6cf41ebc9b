# ngx.process and ngx.worker. The spec runner's config has
# `master_process off`, so the process type is "single" in both servers.
# The privileged agent (master_process on) is covered by tests/process.rs.

=== TEST 1: process type in a request and in a timer
--- config
location = /t {
    content_by_lua_block {
        local process = require "ngx.process"
        ngx.say(process.type())
        ngx.timer.at(0, function()
            ngx.log(ngx.WARN, "timer sees type ", process.type())
        end)
        ngx.sleep(0.05)
    }
}
--- request
GET /t
--- response_body
single
--- error_log
timer sees type single
--- no_error_log
[error]



=== TEST 2: get_master_pid is this process
--- config
location = /t {
    content_by_lua_block {
        local process = require "ngx.process"
        local f = assert(io.open("/proc/self/stat"))
        local pid = f:read("*n")
        f:close()
        local master = process.get_master_pid()
        ngx.say(type(master), " ", master == pid)
    }
}
--- request
GET /t
--- response_body
number true



=== TEST 3: enable_privileged_agent outside init_by_lua
--- config
location = /t {
    content_by_lua_block {
        local process = require "ngx.process"
        ngx.say(process.enable_privileged_agent())
        ngx.say(process.enable_privileged_agent(100))
    }
}
--- request
GET /t
--- response_body
nilAPI disabled in the current context
nilAPI disabled in the current context



=== TEST 4: the module's functions
--- config
location = /t {
    content_by_lua_block {
        local process = require "ngx.process"
        local names = {}
        for k, v in pairs(process) do
            names[#names + 1] = k .. ":" .. type(v)
        end
        table.sort(names)
        ngx.say(table.concat(names, " "))
    }
}
--- request
GET /t
--- response_body
enable_privileged_agent:function get_master_pid:function signal_graceful_exit:function type:function version:string



=== TEST 5: ngx.worker in a request
--- config
location = /t {
    content_by_lua_block {
        local f = assert(io.open("/proc/thread-self/stat"))
        local tid = f:read("*n")
        f:close()
        ngx.say(ngx.worker.id(), " ", ngx.worker.count(), " ", ngx.worker.exiting())
        ngx.say(type(ngx.worker.pid()), " ", ngx.worker.pid() == tid)
        ngx.say(tonumber(ngx.var.pid) == ngx.worker.pid())
    }
}
--- request
GET /t
--- response_body
0 1 false
number true
true



=== TEST 6: ngx.worker in a timer
--- config
location = /t {
    content_by_lua_block {
        local pid = ngx.worker.pid()
        ngx.timer.at(0, function()
            ngx.log(ngx.WARN, "timer: ", ngx.worker.id(), " ", ngx.worker.count(), " ",
                    ngx.worker.exiting(), " ", ngx.worker.pid() == pid)
        end)
        ngx.sleep(0.05)
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_body
ok
--- error_log
timer: 0 1 false true



=== TEST 7: ngx.worker.pids lists the worker
--- config
location = /t {
    content_by_lua_block {
        local pids = ngx.worker.pids()
        ngx.say(type(pids), " ", #pids, " ", pids[1] == ngx.worker.pid())
    }
}
--- request
GET /t
--- response_body
table 1 true



=== TEST 8: process type and privileged agent in init_by_lua
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
init_by_lua_block {
    local process = require "ngx.process"
    local state = require "state"
    state.type = process.type()
    state.agent = { process.enable_privileged_agent() }
    state.bad = { process.enable_privileged_agent(-1) }
    state.pids = { ngx.worker.pids() }
}
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        ngx.say(state.type)
        ngx.say(unpack(state.agent))
        ngx.say(unpack(state.bad))
        ngx.say(unpack(state.pids))
        ngx.say(require("ngx.process").type())
    }
}
--- request
GET /t
--- response_body
single
true
nilbad 'connections' argument: number expected and greater than 0
nilAPI disabled in the current context
single
--- moonwire_only



=== TEST 9: ngx.worker.pids in init_worker_by_lua
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
init_worker_by_lua_block {
    require("state").pids = { ngx.worker.pids() }
    require("state").type = require("ngx.process").type()
}
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        local state = require "state"
        ngx.say(unpack(state.pids))
        ngx.say(state.type)
    }
}
--- request
GET /t
--- response_body
nilAPI disabled in the current context
single
