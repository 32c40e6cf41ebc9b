-- Lua side of the request-body, request-socket and request/response
-- mutation APIs (api/req_body.rs, api/req_socket.rs, api/req.rs,
-- api/resp.rs). Runs once per VM after the prelude, with the same table of
-- Rust primitives.
local C = ...
local ngx = C.ngx
local YIELD = C.YIELD
local rethrow, clean = C.rethrow, C.clean
local co_yield = coroutine.yield
local error, pcall, type, select, setmetatable, ipairs =
    error, pcall, type, select, setmetatable, ipairs

-- A body read failing (413, 400, 408 ...) ends the request with that
-- status, as nginx finalizes it.
local read_body, ngx_exit = C.read_body, ngx.exit
ngx.req.read_body = function(...)
    local status = read_body(...)
    if status == YIELD then
        status = co_yield(YIELD)
    end
    if status then
        return ngx_exit(status)
    end
end

local set_uri_args, encode_args = C.req_set_uri_args, ngx.encode_args
ngx.req.set_uri_args = function(...)
    local n = select("#", ...)
    if n ~= 1 then
        error("expecting 1 argument but seen " .. n, 2)
    end
    local args = ...
    if type(args) == "table" then
        args = encode_args(args)
    end
    return set_uri_args(args)
end

-- ngx.req.socket(raw?): a table wrapping the Rust socket, like ngx.socket.tcp
do
    local req_socket = C.req_socket
    local function methods_of(names)
        local methods = {}
        for _, name in ipairs(names) do
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
        return { __index = methods }
    end
    local body_mt = methods_of({ "receive", "receiveany", "settimeout", "settimeouts" })
    local raw_mt = methods_of({ "receive", "receiveany", "send", "settimeout", "settimeouts",
                                "shutdown" })
    ngx.req.socket = function(...)
        local ok, s, raw = pcall(req_socket, ...)
        if not ok then
            error(clean(s), 2)
        end
        if not s then
            return nil, raw
        end
        return setmetatable({ s }, raw and raw_mt or body_mt)
    end
end

-- lua-resty-core's ngx.req and ngx.resp modules
local preload = package.preload
local req_mod = { version = "0.1.28", add_header = C.req_add_header }
preload["ngx.req"] = function()
    return req_mod
end
local resp_mod = { version = "0.1.28", add_header = C.resp_add_header,
                   set_status = C.resp_set_status }
preload["ngx.resp"] = function()
    return resp_mod
end
