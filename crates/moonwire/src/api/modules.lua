-- The modules libraries require from lua-resty-core's namespace: ngx.errlog,
-- ngx.process, and resty.core / resty.core.* as compat modules (the API they
-- install is native here). They live in package.preload so they win over a
-- distribution's lua-resty-core, whose files need nginx's C ABI. Modules
-- moonwire lacks fail at require time with a message naming them.
local C = ...
local ngx = C.ngx
local preload = package.preload
local error, type, pcall, getmetatable, tostring = error, type, pcall, getmetatable, tostring

-- the lua-resty-core release that goes with the ngx_lua_version we claim
local VERSION = "0.1.28"

-- Module tables are built when first required: objects that exist from the
-- start cost every garbage-collector cycle of every request.

preload["ngx.errlog"] = function()
    return {
        version = VERSION,
        raw_log = C.errlog_raw_log,
        get_sys_filter_level = C.errlog_get_sys_filter_level,
        set_filter_level = C.errlog_set_filter_level,
        get_logs = C.errlog_get_logs,
    }
end

preload["ngx.process"] = function()
    return {
        version = VERSION,
        type = C.process_type,
        enable_privileged_agent = C.process_enable_privileged_agent,
        signal_graceful_exit = C.process_signal_graceful_exit,
        get_master_pid = C.process_get_master_pid,
    }
end

local function unsupported(name)
    -- no "loop or previous error" on the next require: it gets this message again
    package.loaded[name] = nil
    -- level 3: the line that called require
    error(name .. " is not supported by moonwire yet (see docs/compatibility.md)", 3)
end
for _, name in ipairs({ "ngx.balancer", "ngx.ocsp", "ngx.ssl", "ngx.ssl.clienthello",
                        "ngx.ssl.session", "ngx.ssl.proxysslcert", "ngx.ssl.proxysslverify",
                        "ngx.proxyssl" }) do
    preload[name] = unsupported
end

-- resty.core.base: what libraries (Kong, APISIX, lua-resty-mysql's ed25519
-- auth) take from it: scratch FFI buffers, the FFI status codes, the
-- request check, and nginx's C type names for their own ffi.cdef lines.
preload["resty.core.base"] = function()
    local ffi = require "ffi"
    local ffi_new = ffi.new
    local new_tab = require "table.new"

    -- declared once per VM, unless a library got there first
    local types = {
        ngx_str_t = "typedef struct { size_t len; const unsigned char *data; } ngx_str_t;",
        ngx_http_request_t = "typedef struct ngx_http_request_s ngx_http_request_t;",
        ngx_http_lua_ffi_str_t =
            "typedef struct { int len; const unsigned char *data; } ngx_http_lua_ffi_str_t;",
    }
    for name, decl in pairs(types) do
        if not pcall(ffi.typeof, name) then
            ffi.cdef(decl)
        end
    end

    local buf_size, buf, size_ptr, errmsg = 4096, nil, nil, nil
    local base = {
        version = VERSION,
        new_tab = new_tab,
        clear_tab = require "table.clear",
        get_request = C.core_get_request,
        FFI_OK = 0,
        FFI_ERROR = -1,
        FFI_AGAIN = -2,
        FFI_BUSY = -3,
        FFI_DONE = -4,
        FFI_DECLINED = -5,
        FFI_NO_REQ_CTX = -100,
        FFI_BAD_CONTEXT = -101,
    }

    function base.get_string_buf(size, must_alloc)
        if size > buf_size or must_alloc then
            return ffi_new("char[?]", size)
        end
        if not buf then
            buf = ffi_new("char[?]", buf_size)
        end
        return buf
    end

    function base.get_string_buf_size()
        return buf_size
    end

    function base.set_string_buf_size(size)
        if size > 0 then
            buf_size = math.ceil(size)
            buf = nil
        end
    end

    function base.get_size_ptr()
        size_ptr = size_ptr or ffi_new("size_t[1]")
        return size_ptr
    end

    function base.get_errmsg_ptr()
        errmsg = errmsg or ffi_new("char *[1]")
        return errmsg
    end

    -- a free list threaded through slot 0, as lua-resty-core keeps refs
    function base.ref_in_table(tb, key)
        if key == nil then
            return -1
        end
        local ref = tb[0]
        if ref and ref ~= 0 then
            tb[0] = tb[ref]
        else
            ref = #tb + 1
        end
        tb[ref] = key
        return ref
    end

    function base.allows_subsystem(...)
        for i = 1, select("#", ...) do
            if select(i, ...) == "http" then
                return
            end
        end
        error("unsupported subsystem: http", 2)
    end

    return base
end

preload["resty.core.time"] = function()
    return {
        version = VERSION,
        monotonic_msec = C.core_monotonic_msec,
        monotonic_time = C.core_monotonic_time,
    }
end

preload["resty.core.ctx"] = function()
    local ctxs, req_id = C.ctxs, C.req_id
    return {
        _VERSION = VERSION,
        -- the request's ngx.ctx; `ctx` becomes it when there is none yet
        get_ctx_table = function(ctx)
            local id = req_id()
            local cur = ctxs[id]
            if cur == nil then
                cur = ctx or {}
                ctxs[id] = cur
            end
            return cur
        end,
    }
end

-- register_ngx_magic_key_getter/setter: extra computed fields of `ngx`,
-- hooked into ngx's metatable on first use only, so `ngx.ctx` and
-- `ngx.status` keep their direct path otherwise.
preload["resty.core.misc"] = function()
    local getters, setters
    local function hook()
        if getters then
            return
        end
        getters, setters = {}, {}
        local mt = getmetatable(ngx)
        local index, newindex = mt.__index, mt.__newindex
        mt.__index = function(t, k)
            local g = getters[k]
            if g then
                return g()
            end
            return index(t, k)
        end
        mt.__newindex = function(t, k, v)
            local s = setters[k]
            if s then
                return s(v)
            end
            return newindex(t, k, v)
        end
    end
    return {
        version = VERSION,
        register_ngx_magic_key_getter = function(key, f)
            hook()
            getters[key] = f
        end,
        register_ngx_magic_key_setter = function(key, f)
            hook()
            setters[key] = f
        end,
    }
end

preload["resty.core.utils"] = function()
    return {
        version = VERSION,
        -- every byte `find` of `str` becomes `replace` (both one character)
        str_replace_char = function(str, find, replace)
            if not str:find(find, 1, true) then
                return str
            end
            local pat = find:find("^%w") and find or "%" .. find
            return (str:gsub(pat, (replace:gsub("%%", "%%%%"))))
        end,
    }
end

-- ngx.header[key] = value, or with `no_override` added to what is set
local function set_resp_header(_, key, value, no_override)
    if type(key) ~= "string" then
        key = tostring(key)
    end
    if not no_override then
        ngx.header[key] = value
        return
    end
    if value == nil then
        error("invalid header value", 3)
    end
    local old = ngx.header[key]
    if type(value) ~= "table" then
        value = { value }
    elseif #value == 0 then
        return
    end
    if old == nil then
        ngx.header[key] = value
        return
    end
    local all = type(old) == "table" and old or { old }
    for i = 1, #value do
        all[#all + 1] = value[i]
    end
    ngx.header[key] = all
end

preload["resty.core.response"] = function()
    return { version = VERSION, set_resp_header = set_resp_header }
end

-- APISIX checks patterns with re_match_compile; the compiled object is only
-- good for that truth test here (lua-resty-core's is a cdata for its FFI calls).
preload["resty.core.regex"] = function()
    return {
        version = VERSION,
        re_match_compile = function(re, opts)
            local _, _, err = ngx.re.find("", re, opts)
            if err then
                return nil, err
            end
            return { regex = re, options = opts }
        end,
    }
end

-- The rest install API that is native here: nothing to do but exist.
local function compat()
    return { version = VERSION }
end
for _, name in ipairs({ "base64", "coroutine", "exit", "hash", "ndk", "param", "phase",
                        "request", "shdict", "socket", "uri", "var", "worker" }) do
    preload["resty.core." .. name] = compat
end

preload["resty.core"] = function()
    for _, name in ipairs({ "base", "time", "ctx", "misc", "utils", "response", "var",
                            "worker", "regex", "shdict", "hash", "uri", "exit", "base64",
                            "request", "phase", "ndk", "socket", "coroutine", "param" }) do
        require("resty.core." .. name)
    end
    return { version = VERSION }
end
