# resty.core and resty.core.* (compat modules: the API they install is
# native in moonwire), the lua-resty-core modules moonwire lacks, and the
# ngx.config fields libraries check at load time.

=== TEST 1: resty.core and every resty.core.* module load as tables
--- config
location = /t {
    content_by_lua_block {
        local core = require "resty.core"
        ngx.say(type(core), " ", type(core.version), " ", core.no_such_field)
        local names = { "base", "base64", "coroutine", "ctx", "exit", "hash", "misc", "ndk",
                        "param", "phase", "regex", "request", "response", "shdict", "socket",
                        "time", "uri", "utils", "var", "worker" }
        local bad = {}
        for _, name in ipairs(names) do
            local m = require("resty.core." .. name)
            if type(m) ~= "table" or m.no_such_field ~= nil then
                bad[#bad + 1] = name
            end
        end
        ngx.say(#names, " modules, bad: ", table.concat(bad, ","))
        ngx.say(ngx.md5("a"), " ", ngx.time() > 0, " ", ngx.var.uri, " ", ngx.get_phase())
    }
}
--- request
GET /t
--- response_body
table string nil
20 modules, bad: 
0cc175b9c0f1b6a831c399e269772661 true /t content
--- no_error_log
[error]



=== TEST 2: resty.core.base: buffers, pointers, status codes
--- config
location = /t {
    content_by_lua_block {
        local ffi = require "ffi"
        local base = require "resty.core.base"
        local buf = base.get_string_buf(8)
        ffi.copy(buf, "abc", 3)
        ngx.say(ffi.string(buf, 3), " ", base.get_string_buf(8) == buf, " ",
                base.get_string_buf(8, true) == buf, " ", base.get_string_buf_size())
        local big = base.get_string_buf(base.get_string_buf_size() + 1)
        ngx.say(big == buf, " ", ffi.sizeof(big))
        local size = base.get_size_ptr()
        size[0] = 42
        ngx.say(tonumber(base.get_size_ptr()[0]), " ", base.get_errmsg_ptr() == base.get_errmsg_ptr())
        ngx.say(base.FFI_OK, " ", base.FFI_ERROR, " ", base.FFI_AGAIN, " ", base.FFI_BUSY, " ",
                base.FFI_DONE, " ", base.FFI_DECLINED, " ", base.FFI_NO_REQ_CTX, " ",
                base.FFI_BAD_CONTEXT)
        ngx.say(type(base.version), " ", base.get_request() ~= nil)
        local t = base.new_tab(4, 4)
        t.a = 1
        base.clear_tab(t)
        ngx.say(next(t))
        local refs = {}
        local r1 = base.ref_in_table(refs, "x")
        local r2 = base.ref_in_table(refs, "y")
        ngx.say(r1, " ", r2, " ", refs[r1], refs[r2], " ", base.ref_in_table(refs, nil))
        base.allows_subsystem("stream", "http")
        ngx.say(pcall(base.allows_subsystem, "stream"))
    }
}
--- request
GET /t
--- response_body
abc true false 4096
false 4097
42 true
0 -1 -2 -3 -4 -5 -100 -101
string true
nil
1 2 xy -1
falseunsupported subsystem: http
--- no_error_log
[error]



=== TEST 3: resty.core.base declares nginx's C type names for libraries' ffi.cdef
--- config
location = /t {
    content_by_lua_block {
        local ffi = require "ffi"
        require "resty.core.base"
        ffi.cdef[[
            int moonwire_spec_no_such_fn(ngx_http_request_t *r, ngx_str_t *s,
                                         ngx_http_lua_ffi_str_t *v);
        ]]
        local s = ffi.new("ngx_str_t")
        s.data = "hello"
        s.len = 5
        ngx.say(ffi.string(s.data, s.len))
        ngx.say(pcall(function() return ffi.C.moonwire_spec_no_such_fn end))
    }
}
--- request
GET /t
--- response_body_like
^hello
false.*moonwire_spec_no_such_fn
--- no_error_log
[error]



=== TEST 4: resty.core.base.get_request in a timer (a fake request in OpenResty)
--- config
location = /t {
    content_by_lua_block {
        local base = require "resty.core.base"
        ngx.timer.at(0, function()
            ngx.log(ngx.WARN, "timer has a request: ", base.get_request() ~= nil)
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
timer has a request: true



=== TEST 5: resty.core.time: the monotonic clock
--- config
location = /t {
    content_by_lua_block {
        local time = require "resty.core.time"
        local ms, s = time.monotonic_msec(), time.monotonic_time()
        ngx.sleep(0.02)
        local ms2, s2 = time.monotonic_msec(), time.monotonic_time()
        ngx.say(type(ms), " ", ms2 - ms >= 19, " ", ms2 - ms < 1000, " ", s2 - s >= 0.019,
                " ", math.abs(s - ms / 1000) < 1)
    }
}
--- request
GET /t
--- response_body
number true true true true



=== TEST 6: resty.core.ctx: get_ctx_table is ngx.ctx
--- config
location = /t {
    content_by_lua_block {
        local get_ctx_table = require("resty.core.ctx").get_ctx_table
        ngx.ctx.foo = "bar"
        ngx.say(get_ctx_table().foo, " ", get_ctx_table() == ngx.ctx)
    }
}
--- request
GET /t
--- response_body
bar true



=== TEST 7: resty.core.ctx: get_ctx_table takes a table to use as a new ctx
--- config
location = /t {
    content_by_lua_block {
        local get_ctx_table = require("resty.core.ctx").get_ctx_table
        local mine = { from = "me" }
        local ctx = get_ctx_table(mine)
        ngx.say(ctx == mine, " ", ngx.ctx.from, " ", get_ctx_table({}) == mine)
    }
}
--- request
GET /t
--- response_body
true me true



=== TEST 8: resty.core.utils and resty.core.response helpers
--- config
location = /t {
    content_by_lua_block {
        local set_resp_header = require("resty.core.response").set_resp_header
        set_resp_header(nil, "X-One", "1")
        set_resp_header(nil, "X-Multi", "a", true)
        set_resp_header(nil, "X-Multi", { "b", "c" }, true)
        set_resp_header(nil, "X-Multi", {}, true)
        local ok, err = pcall(set_resp_header, nil, "X-Multi", nil, true)
        local utils = require "resty.core.utils"
        ngx.say(utils.str_replace_char("a-b-c", "-", "_"), " ",
                utils.str_replace_char("a.b", ".", "%"), " ", utils.str_replace_char("abc", "x", "y"))
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_headers
X-One: 1
X-Multi: a, b, c
--- response_body_like
^a_b_c a%b abc
false content_by_lua\(nginx\.conf:\d+\):7: invalid header value
$



=== TEST 9: resty.core.misc: extra ngx fields
--- config
location = /t {
    content_by_lua_block {
        local misc = require "resty.core.misc"
        local stored
        misc.register_ngx_magic_key_getter("moonwire_answer", function() return 42 end)
        misc.register_ngx_magic_key_setter("moonwire_answer", function(v) stored = v end)
        ngx.moonwire_answer = 7
        ngx.ctx.x = 1
        ngx.status = 201
        ngx.say(ngx.moonwire_answer, " ", stored, " ", ngx.ctx.x, " ", ngx.status, " ",
                rawget(ngx, "moonwire_answer"))
    }
}
--- request
GET /t
--- error_code: 201
--- response_body
42 7 1 201 nil



=== TEST 10: modules moonwire lacks fail at require with their name
--- config
location = /t {
    content_by_lua_block {
        for _, name in ipairs({ "ngx.ssl", "ngx.ocsp", "ngx.balancer", "ngx.ssl.session",
                                "ngx.ssl.clienthello" }) do
            ngx.say(select(2, pcall(require, name)))
        end
        local ok, err = pcall(require, "ngx.ssl")
        ngx.say(ok, " ", package.loaded["ngx.ssl"], " ", err)
    }
}
--- request
GET /t
--- response_body
ngx.ssl is not supported by moonwire yet (see docs/compatibility.md)
ngx.ocsp is not supported by moonwire yet (see docs/compatibility.md)
ngx.balancer is not supported by moonwire yet (see docs/compatibility.md)
ngx.ssl.session is not supported by moonwire yet (see docs/compatibility.md)
ngx.ssl.clienthello is not supported by moonwire yet (see docs/compatibility.md)
false nil ngx.ssl is not supported by moonwire yet (see docs/compatibility.md)
--- moonwire_only



=== TEST 11: an unsupported module's error names the line that required it
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(function()
            local ssl = require "ngx.ssl"
            return ssl
        end)
        ngx.say(err)
    }
}
--- request
GET /t
--- response_body_like
^content_by_lua\(nginx\.conf:\d+\):3: ngx\.ssl is not supported by moonwire yet
--- moonwire_only



=== TEST 12: ngx.config as libraries read it, in a request and a timer
--- config
location = /t {
    content_by_lua_block {
        local function show(where)
            local c = ngx.config
            return table.concat({ where, c.subsystem, type(c.debug), tostring(c.nginx_version >= 1019003),
                                  tostring(c.ngx_lua_version >= 10023), c.prefix(),
                                  tostring(c.nginx_configure():find("--with-http_ssl_module", 1, true) ~= nil) }, " ")
        end
        ngx.say(show("request"))
        ngx.timer.at(0, function() ngx.log(ngx.WARN, show("timer")) end)
        ngx.sleep(0.05)
    }
}
--- request
GET /t
--- response_body
request http boolean true true $TEST_NGINX_SERVER_ROOT/ true
--- error_log
timer http boolean true true $TEST_NGINX_SERVER_ROOT/ true



=== TEST 13: what lua-resty-mysql's and Kong's modules do at load time
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
--- user_files
>>> loadtime.lua
-- the shape of lua-resty-mysql's ed25519 auth and Kong's FFI helpers
local ffi = require "ffi"
local base = require "resty.core.base"
local bit = require "bit"
local get_string_buf = base.get_string_buf
local get_request = base.get_request
ffi.cdef[[
    int moonwire_spec_kong_like(ngx_http_request_t *r, const char *s, size_t len);
]]
local _M = {}
function _M.reverse(s)
    local n = #s
    local buf = get_string_buf(n)
    for i = 0, n - 1 do
        buf[i] = s:byte(n - i)
    end
    return ffi.string(buf, n)
end
function _M.in_request()
    return get_request() ~= nil
end
_M.mysql_ok = ngx.config.subsystem == "http" and ngx.config.ngx_lua_version >= 9011
_M.bits = bit.band(0xff, 0x0f)
return _M
--- config
location = /t {
    content_by_lua_block {
        local m = require "loadtime"
        ngx.say(m.reverse("abc"), " ", m.in_request(), " ", m.mysql_ok, " ", m.bits)
    }
}
--- request
GET /t
--- response_body
cba true true 15
--- no_error_log
[error]



=== TEST 14: resty.core.base.get_request in init_by_lua
--- http_config
lua_package_path "$TEST_NGINX_HTML_DIR/?.lua;;";
init_by_lua_block {
    require "resty.core"
    require("state").init_request = require("resty.core.base").get_request()
}
--- user_files
>>> state.lua
return {}
--- config
location = /t {
    content_by_lua_block {
        ngx.say(require("state").init_request)
    }
}
--- request
GET /t
--- response_body
nil



=== TEST 15: resty.core.regex.re_match_compile checks a pattern
--- config
location = /t {
    content_by_lua_block {
        local re_match_compile = require("resty.core.regex").re_match_compile
        local good = re_match_compile("a(b)c", "jo")
        ngx.say(good ~= nil)
        local bad, err2 = re_match_compile("a(b", "jo")
        ngx.say(bad, " ", err2 ~= nil)
    }
}
--- request
GET /t
--- response_body
true
nil true
