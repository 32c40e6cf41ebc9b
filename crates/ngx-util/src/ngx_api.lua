-- Argument handling for the request-independent ngx.* functions.
--
-- The work is done in Rust (`raw`). Argument checks live here because OpenResty reports
-- misuse with plain string errors positioned at the caller, and its coercions (tostring
-- with __tostring, Lua's number formatting) are Lua's own. Two conventions exist and are
-- kept apart on purpose:
--   * functions that lua-resty-core reimplements via FFI (escape/unescape, md5, sha1,
--     base64, time) follow lua-resty-core: nil/false become "", anything else goes
--     through tostring, and misuse raises error(msg, 2);
--   * the rest are lua-nginx-module C functions: exact argument counts, luaL_check*
--     style "bad argument" messages, strings or numbers only.
-- Errors are raised as statements, never `return error(...)`: a tail call would drop
-- this frame and shift the reported position by one level.

local raw, ngx = ...

local type = type
local tostring = tostring
local tonumber = tonumber
local select = select
local error = error
local callee_name = raw.callee_name

-- lua-resty-core's coercion for string arguments.
local function ffi_str(s)
    if type(s) == "string" then
        return s
    end
    if not s then
        return ""
    end
    return tostring(s)
end

-- What luaL_checklstring accepts: strings, and numbers in their Lua spelling.
local function c_str(v)
    local t = type(v)
    if t == "string" then
        return v
    end
    if t == "number" then
        return tostring(v)
    end
    return nil
end

-- luaL_argerror raised on behalf of the wrapper that called us. The callee is named the
-- way its caller spelled it (LuaJIT derives it from the call site, "?" if unknown), and
-- the message is positioned at that caller: level 2 is the wrapper, level 3 its caller.
-- `callee_name` reads the stack from Rust, so this works without the debug library.
local function arg_error(narg, detail)
    local name, namewhat = callee_name()
    if namewhat == "method" then
        narg = narg - 1
        if narg == 0 then
            error("calling '" .. name .. "' on bad self (" .. detail .. ")", 3)
        end
    end
    error("bad argument #" .. narg .. " to '" .. name .. "' (" .. detail .. ")", 3)
end

-- lua-resty-core flavoured -------------------------------------------------------------

local raw_escape_uri = raw.escape_uri
ngx.escape_uri = function(s, esc_type)
    s = ffi_str(s)
    if esc_type == nil then
        esc_type = 2
    else
        if type(esc_type) ~= "number" then
            error("\"type\" is not a number", 3)
        end
        if esc_type < 0 or esc_type > 6 then
            error("\"type\" " .. esc_type .. " out of range", 3)
        end
    end
    return raw_escape_uri(s, esc_type)
end

local raw_unescape_uri = raw.unescape_uri
ngx.unescape_uri = function(s)
    return raw_unescape_uri(ffi_str(s))
end

local raw_md5 = raw.md5
ngx.md5 = function(s)
    return raw_md5(ffi_str(s))
end

local raw_md5_bin = raw.md5_bin
ngx.md5_bin = function(s)
    return raw_md5_bin(ffi_str(s))
end

local raw_sha1_bin = raw.sha1_bin
ngx.sha1_bin = function(s)
    return raw_sha1_bin(ffi_str(s))
end

local raw_encode_base64 = raw.encode_base64
ngx.encode_base64 = function(s, no_padding)
    s = ffi_str(s)
    if no_padding and no_padding ~= true then
        error("bad no_padding: boolean expected, got " .. type(no_padding), 2)
    end
    return raw_encode_base64(s, no_padding == true)
end

local raw_decode_base64 = raw.decode_base64
ngx.decode_base64 = function(s)
    if type(s) ~= "string" then
        error("string argument only", 2)
    end
    return raw_decode_base64(s)
end

local raw_decode_base64mime = raw.decode_base64mime
ngx.decode_base64mime = function(s)
    if type(s) ~= "string" then
        error("string argument only", 2)
    end
    return raw_decode_base64mime(s)
end

local raw_http_time = raw.http_time
ngx.http_time = function(sec)
    if type(sec) ~= "number" then
        error("number argument only", 2)
    end
    return raw_http_time(sec)
end

local raw_cookie_time = raw.cookie_time
ngx.cookie_time = function(sec)
    if type(sec) ~= "number" then
        error("number argument only", 2)
    end
    return raw_cookie_time(sec)
end

local raw_parse_http_time = raw.parse_http_time
ngx.parse_http_time = function(str)
    if type(str) ~= "string" then
        error("string argument only", 2)
    end
    return raw_parse_http_time(str)
end

-- lua-nginx-module C flavoured ----------------------------------------------------------

local raw_quote_sql_str = raw.quote_sql_str
ngx.quote_sql_str = function(...)
    if select("#", ...) ~= 1 then
        error("expecting one argument", 2)
    end
    local v = ...
    local s = c_str(v)
    if s == nil then
        arg_error(1, "string expected, got " .. type(v))
    end
    return raw_quote_sql_str(s)
end

local function crc32_wrapper(impl)
    return function(...)
        local n = select("#", ...)
        if n ~= 1 then
            error("expecting one argument, but got " .. n, 2)
        end
        local v = ...
        local s = c_str(v)
        if s == nil then
            arg_error(1, "string expected, got " .. type(v))
        end
        return impl(s)
    end
end
ngx.crc32_short = crc32_wrapper(raw.crc32_short)
ngx.crc32_long = crc32_wrapper(raw.crc32_long)

local raw_hmac_sha1 = raw.hmac_sha1
ngx.hmac_sha1 = function(...)
    local n = select("#", ...)
    if n ~= 2 then
        error("expecting 2 arguments, but got " .. n, 2)
    end
    local k, v = ...
    local key, data = c_str(k), c_str(v)
    if key == nil then
        arg_error(1, "string expected, got " .. type(k))
    end
    if data == nil then
        arg_error(2, "string expected, got " .. type(v))
    end
    return raw_hmac_sha1(key, data)
end

local raw_encode_args = raw.encode_args
ngx.encode_args = function(...)
    local n = select("#", ...)
    if n ~= 1 then
        error("expecting 1 argument but seen " .. n, 2)
    end
    local t = ...
    if type(t) ~= "table" then
        arg_error(1, "table expected, got " .. type(t))
    end
    local res, err = raw_encode_args(t)
    if res == nil then
        error(err, 2)
    end
    return res
end

local raw_decode_args = raw.decode_args
ngx.decode_args = function(...)
    local n = select("#", ...)
    if n ~= 1 and n ~= 2 then
        error("expecting 1 or 2 arguments but seen " .. n, 2)
    end
    local v, m = ...
    local s = c_str(v)
    if s == nil then
        arg_error(1, "string expected, got " .. type(v))
    end
    local max = 100
    if n == 2 then
        max = type(m) == "string" and tonumber(m) or m
        if type(max) ~= "number" then
            arg_error(2, "number expected, got " .. type(m))
        end
    end
    return raw_decode_args(s, max)
end
