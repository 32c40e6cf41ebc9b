-- The parts of ngx.re that call user Lua: gmatch iterators, replacement
-- functions of sub/gsub, and the ngx.re module (split, opt). Lua, so that
-- a replacement function may yield as in OpenResty. Runs once per VM with
-- `ngx` and the C primitives of api/re.rs.
local ngx, C = ...

local compile, exec, c_sub, c_gsub = C.compile, C.exec, C.sub, C.gsub
local tostring, type, error = tostring, type, error
local str_sub, concat = string.sub, table.concat
local new_tab = require "table.new"

local function gmatch(subj, regex, opts)
    subj = tostring(subj)
    local h, err = compile(regex, opts, "gmatch")
    if not h then
        return nil, err
    end
    local len = #subj
    local pos = 0 -- nil once exhausted
    return function()
        if not pos then
            return nil
        end
        local from, to, caps = exec(h, subj, pos, true)
        if not from then
            pos = nil
            if to then
                return nil, to
            end
            return nil
        end
        if to == from then
            -- an empty match: the next search starts one byte further
            to = to + 1
            if to > len then
                pos = nil
                return caps
            end
        end
        pos = to
        return caps
    end
end

-- sub/gsub with a replacement function: called with the captures table,
-- its result converted with tostring.
local function sub_fn(subj, regex, fn, opts, global, fname)
    subj = tostring(subj)
    local h, err = compile(regex, opts, fname)
    if not h then
        return nil, nil, err
    end
    local len = #subj
    local out, n = {}, 0
    local pos, copied, count = 0, 0, 0
    while true do
        local from, to, caps = exec(h, subj, pos, true)
        if not from then
            if to then
                return nil, nil, to
            end
            break
        end
        count = count + 1
        out[n + 1] = str_sub(subj, copied + 1, from)
        out[n + 2] = tostring(fn(caps))
        n = n + 2
        copied, pos = to, to
        if from == to then
            pos = pos + 1
            if pos > len then
                break
            end
        end
        if not global then
            break
        end
    end
    if count == 0 then
        return subj, 0
    end
    out[n + 1] = str_sub(subj, copied + 1)
    return concat(out), count
end

ngx.re = {
    match = C.match,
    find = C.find,
    gmatch = gmatch,
    sub = function(subj, regex, replace, opts)
        if type(replace) == "function" then
            return sub_fn(subj, regex, replace, opts, false, "sub")
        end
        return c_sub(subj, regex, replace, opts)
    end,
    gsub = function(subj, regex, replace, opts)
        if type(replace) == "function" then
            return sub_fn(subj, regex, replace, opts, true, "gsub")
        end
        return c_gsub(subj, regex, replace, opts)
    end,
}

-- require "ngx.re" (lua-resty-core's module)

local split_ctx = {}

-- Pieces of `subj` between the matches of `regex`, from `ctx.pos`; group 1
-- of a match, when it took part, goes between them. At most `max` pieces
-- when `max` > 0 (the last one is the rest); otherwise empty pieces at the
-- end are dropped. An empty match separates the characters around it, but
-- not right after another match or at the start.
local function split(subj, regex, opts, ctx, max, res)
    subj = tostring(subj)
    if not ctx then
        ctx = split_ctx
        ctx.pos = 1
    elseif not ctx.pos then
        ctx.pos = 1
    end
    max = max or 0
    if not res then
        res = new_tab((max > 0 and max < 4) and max or 4, 0)
    elseif type(res) ~= "table" then
        error("res is not a table", 2)
    end

    local len = #subj
    if ctx.pos > len then
        res[1] = nil
        return res
    end

    local h, err = compile(regex, opts, "split")
    if not h then
        return nil, err
    end

    local start = ctx.pos -- 1-based start of the current piece
    local pos = start - 1 -- 0-based offset of the next search
    local empty_at -- 1-based position of the empty match just seen
    local n, pieces = 0, 1
    while max <= 0 or pieces < max do
        local from, to, cap = exec(h, subj, pos, false)
        if not from then
            if to then
                return nil, to
            end
            break
        end
        pos = from == to and to + 1 or to
        ctx.pos = pos
        from, to = from + 1, to + 1
        if empty_at then
            start = empty_at
        end
        if from == to then
            empty_at = from
        else
            empty_at = nil
        end
        if from > start or not empty_at then
            pieces = pieces + 1
            n = n + 1
            res[n] = str_sub(subj, start, from - 1)
            if cap then
                n = n + 1
                res[n] = cap
            end
            start = to
            if start > len then
                break
            end
        end
    end

    if max <= 0 and start > len then
        while n > 0 and res[n] == "" do
            res[n] = nil
            n = n - 1
        end
    else
        n = n + 1
        res[n] = str_sub(subj, start)
    end
    res[n + 1] = nil
    return res
end

local function opt(option, value)
    if option == "jit_stack_size" then
        local ok, err = C.jit_stack(value)
        if not ok then
            error(err, 2)
        end
        return
    end
    error("unrecognized option name", 2)
end

package.preload["ngx.re"] = function()
    return { version = "0.1.28", split = split, opt = opt }
end
