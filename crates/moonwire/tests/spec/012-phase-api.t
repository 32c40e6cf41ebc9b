# Which API works in which phase, with OpenResty's messages.

=== TEST 1: output and control APIs in log_by_lua
--- config
location = /t {
    content_by_lua_block { ngx.say("ok") }
    log_by_lua_block {
        local function try(name, f, ...)
            local ok, err = pcall(f, ...)
            ngx.log(ngx.WARN, name, ": ", tostring(ok), " ", tostring(err))
        end
        try("say", ngx.say, "x")
        try("send_headers", ngx.send_headers)
        try("exit", ngx.exit, 200)
        try("exec", ngx.exec, "/x")
        try("capture", ngx.location.capture, "/x")
    }
}
--- request
GET /t
--- response_body
ok
--- error_log
say: false API disabled in the context of log_by_lua*
send_headers: false API disabled in the context of log_by_lua*
exit: false API disabled in the context of log_by_lua*
exec: false API disabled in the context of log_by_lua*
capture: false API disabled in the context of log_by_lua*



=== TEST 2: output and control APIs in body_filter_by_lua
--- config
location = /t {
    content_by_lua_block { ngx.print("ok") }
    body_filter_by_lua_block {
        if not ngx.arg[2] then return end
        local res = {}
        for _, f in ipairs({ ngx.say, ngx.exec, ngx.redirect }) do
            local ok, err = pcall(f, "/x")
            res[#res + 1] = tostring(err)
        end
        ngx.arg[1] = "\n" .. table.concat(res, "\n") .. "\n"
    }
}
--- request
GET /t
--- response_body
ok
API disabled in the context of body_filter_by_lua*
API disabled in the context of body_filter_by_lua*
API disabled in the context of body_filter_by_lua*



=== TEST 3: request APIs work in header_filter_by_lua and log_by_lua
--- config
location = /t {
    content_by_lua_block { ngx.say("ok") }
    header_filter_by_lua_block {
        ngx.header["X-Method"] = ngx.req.get_method()
        ngx.header["X-Arg"] = ngx.req.get_uri_args().a
    }
    log_by_lua_block {
        ngx.log(ngx.WARN, "log sees ", ngx.req.get_headers()["host"], " ", ngx.var.arg_a)
    }
}
--- request
GET /t?a=1
--- response_headers
X-Method: GET
X-Arg: 1
--- error_log
log sees localhost 1



=== TEST 4: set_by_lua: no output, no yielding, no exit
--- config
location = /t {
    set_by_lua_block $res {
        local out = {}
        for _, f in ipairs({ ngx.say, ngx.sleep, ngx.exit }) do
            local ok, err = pcall(f, 1)
            out[#out + 1] = tostring(err)
        end
        return table.concat(out, "|")
    }
    content_by_lua_block { ngx.say(ngx.var.res) }
}
--- request
GET /t
--- response_body
API disabled in the context of set_by_lua*|API disabled in the context of set_by_lua*|API disabled in the context of set_by_lua*



=== TEST 5: init_worker_by_lua has no request
--- http_config
init_worker_by_lua_block {
    local ok, err = pcall(ngx.say, "x")
    iw_say = tostring(err)
    ok, err = pcall(ngx.req.get_headers)
    iw_headers = tostring(err)
}
--- config
location = /t {
    content_by_lua_block { ngx.say(iw_say) ngx.say(iw_headers) }
}
--- request
GET /t
--- response_body
API disabled in the context of init_worker_by_lua*
API disabled in the current context



=== TEST 6: timers have no request output
--- config
location = /t {
    content_by_lua_block {
        local result
        ngx.timer.at(0, function()
            local ok, err = pcall(ngx.say, "x")
            result = err
        end)
        ngx.sleep(0.02)
        ngx.say(result)
    }
}
--- request
GET /t
--- response_body
API disabled in the context of ngx.timer



=== TEST 7: ngx.get_phase in every request phase
--- config
location = /t {
    set_by_lua_block $p { return ngx.get_phase() }
    rewrite_by_lua_block { ngx.ctx.p = { ngx.var.p, ngx.get_phase() } }
    access_by_lua_block { table.insert(ngx.ctx.p, ngx.get_phase()) }
    content_by_lua_block {
        table.insert(ngx.ctx.p, ngx.get_phase())
        ngx.say(table.concat(ngx.ctx.p, " "))
    }
    header_filter_by_lua_block { ngx.header["X-Phase"] = ngx.get_phase() }
    log_by_lua_block { ngx.log(ngx.WARN, "phase in log: ", ngx.get_phase()) }
}
--- request
GET /t
--- response_body
set rewrite access content
--- response_headers
X-Phase: header_filter
--- error_log
phase in log: log
