-- Lua side of the request-body and request/response mutation APIs
-- (api/req_body.rs, api/req.rs, api/resp.rs). Runs once per VM after the prelude, with the same table of
-- Rust primitives.
local C = ...
local ngx = C.ngx
local YIELD = C.YIELD
local co_yield = coroutine.yield
local error, type, select = error, type, select

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
