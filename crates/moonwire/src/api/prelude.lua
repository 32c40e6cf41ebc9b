-- Lua-side glue of the ngx API. Runs once per VM with the table of Rust
-- primitives as its argument. Kept small: only what must be Lua (yielding,
-- coroutine forwarding, proxy tables).
local C = ...
local ngx = C.ngx
local YIELD = C.YIELD

local co_create, co_resume, co_yield, co_status =
    coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local error, rawget, rawset, setmetatable, type, pairs, next =
    error, rawget, rawset, setmetatable, type, pairs, next
local str_lower, str_gsub = string.lower, string.gsub

-- A primitive returns YIELD when its caller must give control to the
-- worker's event loop; the driver resumes us with the result.
local function after(...)
    if ... == YIELD then
        return co_yield(YIELD)
    end
    return ...
end

-- Errors raised by mlua-based primitives are userdata; scripts (pcall users)
-- expect OpenResty's plain strings.
local tostring, str_find, str_sub = tostring, string.find, string.sub
local function clean(err)
    if type(err) == "userdata" then
        err = tostring(err)
        local tb = str_find(err, "\nstack traceback:", 1, true)
        if tb then
            err = str_sub(err, 1, tb - 1)
        end
        if str_sub(err, 1, 15) == "runtime error: " then
            err = str_sub(err, 16)
        end
    end
    return err
end

local function rethrow(ok, ...)
    if ok then
        return after(...)
    end
    error(clean((...)), 0)
end

local pcall = pcall
local function yielding(f)
    return function(...)
        return rethrow(pcall(f, ...))
    end
end

-- Every ngx.* function built on an mlua closure (a C function with
-- upvalues; the raw hot-path ones have none and raise strings already)
-- gets the same treatment, so that `pcall(ngx.md5)` and friends return
-- OpenResty's plain string errors.
do
    local getinfo, getupvalue = debug.getinfo, debug.getupvalue
    local seen = {}
    local function walk(t)
        seen[t] = true
        for k, v in pairs(t) do
            if type(v) == "function" then
                -- ngx.log reads its caller's position from the stack: not wrapped
                if v ~= ngx.log and getinfo(v, "S").what == "C" and getupvalue(v, 1) ~= nil then
                    t[k] = yielding(v)
                end
            elseif type(v) == "table" and not seen[v] then
                walk(v)
            end
        end
    end
    walk(ngx)
end

ngx.sleep = yielding(C.sleep)
ngx.exit = yielding(C.exit)
ngx.flush = yielding(C.flush)
ngx.send_headers = yielding(C.send_headers)
ngx.eof = yielding(C.eof)
ngx.redirect = yielding(C.redirect)
do
    local capture_multi, encode_args = yielding(C.capture_multi), ngx.encode_args
    local function encode_opts(r)
        local opts = type(r) == "table" and r[2]
        if type(opts) == "table" and type(opts.args) == "table" then
            local copy = {}
            for k, v in pairs(opts) do
                copy[k] = v
            end
            copy.args = encode_args(opts.args)
            return { r[1], copy }
        end
        return r
    end
    ngx.location = {
        capture_multi = function(reqs)
            if type(reqs) == "table" then
                local copy = {}
                for i = 1, #reqs do
                    copy[i] = encode_opts(reqs[i])
                end
                reqs = copy
            end
            return capture_multi(reqs)
        end,
        capture = function(uri, opts)
            return capture_multi({ encode_opts({ uri, opts }) })
        end,
    }
end
do
    local exec, encode_args = yielding(C.exec), ngx.encode_args
    ngx.exec = function(uri, args)
        if type(args) == "table" then
            args = encode_args(args)
        end
        return exec(uri, args)
    end
end
ngx.thread.spawn = yielding(C.thread_spawn)
ngx.thread.wait = yielding(C.thread_wait)

-- User coroutines: an API yield inside one travels up to the driver, and
-- the coroutine is resumed with the result once the I/O is done.
local function forward(co, ok, first, ...)
    if ok and first == YIELD and co_status(co) == "suspended" then
        return forward(co, co_resume(co, co_yield(YIELD)))
    end
    return ok, first, ...
end

coroutine.resume = function(co, ...)
    return forward(co, co_resume(co, ...))
end

local function wrap_forward(co, ok, first, ...)
    if ok then
        if first == YIELD and co_status(co) == "suspended" then
            return wrap_forward(co, co_resume(co, co_yield(YIELD)))
        end
        return first, ...
    end
    error(first, 0)
end

local thread_status = C.thread_status
coroutine.status = function(co)
    return thread_status(co) or co_status(co)
end

coroutine.wrap = function(f)
    local co = co_create(f)
    return function(...)
        return wrap_forward(co, co_resume(co, ...))
    end
end

-- ngx.ctx, ngx.status and friends are per request: resolved on access.
local ctxs, req_id = C.ctxs, C.req_id
local get_status, set_status, headers_sent = C.get_status, C.set_status, C.headers_sent

setmetatable(ngx, {
    __index = function(_, k)
        if k == "ctx" then
            local id = req_id()
            local ctx = ctxs[id]
            if ctx == nil then
                ctx = {}
                ctxs[id] = ctx
            end
            return ctx
        elseif k == "status" then
            return get_status()
        elseif k == "headers_sent" then
            return headers_sent()
        elseif k == "is_subrequest" then
            return C.is_subrequest()
        end
    end,
    __newindex = function(t, k, v)
        if k == "status" then
            return set_status(v)
        elseif k == "ctx" then
            if type(v) ~= "table" then
                error("ctx should be a table while getting a " .. type(v) .. " value instead", 2)
            end
            ctxs[req_id()] = v
            return
        end
        rawset(t, k, v)
    end,
})

ngx.var = setmetatable({}, { __index = C.var_get, __newindex = C.var_set })
ngx.arg = setmetatable({}, { __index = C.arg_get, __newindex = C.arg_set })
ngx.header = setmetatable({}, { __index = C.header_get, __newindex = C.header_set })

-- Header tables answer h.user_agent and h["User-Agent"] alike.
local header_mt = {
    __index = function(t, k)
        if type(k) ~= "string" then
            return nil
        end
        return rawget(t, (str_lower((str_gsub(k, "_", "-")))))
    end,
}

local function with_header_mt(f)
    return function(max, raw)
        local h, err = f(max, raw)
        if not raw then
            setmetatable(h, header_mt)
        end
        return h, err
    end
end

ngx.req.get_headers = with_header_mt(ngx.req.get_headers)
ngx.resp.get_headers = with_header_mt(ngx.resp.get_headers)

-- ngx.semaphore (lua-resty-core's module), over Rust primitives
do
    local sem_new, sem_wait, sem_post, sem_count = C.sem_new, C.sem_wait, C.sem_post, C.sem_count
    local methods = {}
    function methods.wait(self, timeout)
        return rethrow(pcall(sem_wait, self.sem, timeout))
    end
    function methods.post(self, n)
        return rethrow(pcall(sem_post, self.sem, n))
    end
    function methods.count(self)
        return sem_count(self.sem)
    end
    local mt = { __index = methods }
    local semaphore = { version = "0.1.28" }
    function semaphore.new(n)
        local ok, sem = pcall(sem_new, n)
        if not ok then
            error(clean(sem), 0)
        end
        return setmetatable({ sem = sem }, mt)
    end
    package.preload["ngx.semaphore"] = function()
        return semaphore
    end
end

-- ngx.socket.udp: a table wrapping the Rust socket; waits yield through `after`
do
    local udp_new = C.udp_new
    local methods = {}
    for _, name in ipairs({ "setpeername", "send", "receive", "settimeout", "bind", "close" }) do
        methods[name] = function(self, ...)
            local u = self[1]
            return rethrow(pcall(u[name], u, ...))
        end
    end
    local mt = { __index = methods }
    ngx.socket = ngx.socket or {}
    ngx.socket.udp = function()
        return setmetatable({ udp_new() }, mt)
    end
end

-- ngx.socket.tcp: a table wrapping the Rust socket (libraries may override
-- methods on it); waits yield through `after`
do
    local tcp_new = C.tcp_new
    local methods = {}
    for _, name in ipairs({ "connect", "send", "receive", "receiveany", "close", "settimeout",
                            "settimeouts", "setkeepalive", "getreusedtimes", "setoption",
                            "getoption", "bind", "sslhandshake" }) do
        methods[name] = function(self, ...)
            local s = self[1]
            return rethrow(pcall(s[name], s, ...))
        end
    end
    function methods.receiveuntil(self, pattern, opts)
        local s = self[1]
        local ok, it, err = pcall(s.new_until, s, pattern, opts)
        if not ok then
            error(clean(it), 0)
        end
        if not it then
            return nil, err
        end
        local step = s.receiveuntil_step
        return function(size)
            return rethrow(pcall(step, s, it, size))
        end
    end
    local mt = { __index = methods }
    local function tcp()
        return setmetatable({ tcp_new() }, mt)
    end
    ngx.socket.tcp = tcp
    ngx.socket.stream = tcp
    ngx.socket.connect = function(host, port, opts)
        local sock = tcp()
        local ok, err = sock:connect(host, port, opts)
        if not ok then
            return nil, err
        end
        return sock
    end
end

-- lua_request_globals shared: warn on global writes from requests, as OpenResty does.
local warn_global = C.warn_global
setmetatable(_G, {
    __newindex = function(t, k, v)
        warn_global(k)
        rawset(t, k, v)
    end,
})

-- OpenResty LuaJIT's table extensions that libraries require.
local preload = package.preload
preload["table.nkeys"] = function()
    return function(t)
        local n = 0
        for _ in pairs(t) do
            n = n + 1
        end
        return n
    end
end
preload["table.isempty"] = function()
    return function(t)
        return next(t) == nil
    end
end
preload["table.isarray"] = function()
    return function(t)
        local n = 0
        for k in pairs(t) do
            if type(k) ~= "number" then
                return false
            end
            n = n + 1
        end
        for i = 1, n do
            if t[i] == nil then
                return false
            end
        end
        return true
    end
end
preload["table.clone"] = function()
    return function(t)
        local c = {}
        for k, v in pairs(t) do
            c[k] = v
        end
        return c
    end
end
if not pcall(require, "table.new") then
    preload["table.new"] = function()
        return function()
            return {}
        end
    end
end
if not pcall(require, "table.clear") then
    preload["table.clear"] = function()
        return function(t)
            for k in pairs(t) do
                t[k] = nil
            end
        end
    end
end
