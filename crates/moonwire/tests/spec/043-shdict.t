# ngx.shared.DICT: values, flags, expiry, add/replace/delete, incr, lists,
# ttl/expire, flush_all/flush_expired, get_keys, capacity/free_space, LRU
# eviction, and every error path, with the return values and messages of
# lua-nginx-module 0.10.23 + lua-resty-core 0.1.25 (Debian's nginx, which
# these blocks are checked against). Every block runs twice in one server,
# so each one starts by clearing what it uses.

=== TEST 1: strings, numbers, booleans and flags round-trip; set returns true, nil, false
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        ngx.say(dogs:set("s", "hello"))
        ngx.say(dogs:set("n", 3.5))
        ngx.say(dogs:set("t", true))
        ngx.say(dogs:set("f", false))
        ngx.say(dogs:set("bin", "a\0b"))
        ngx.say(dogs:set("flagged", "x", 0, 42))
        ngx.say(dogs:get("s"), " ", type(dogs:get("n")), " ", dogs:get("n"))
        ngx.say(dogs:get("t"), " ", dogs:get("f"), " ", type(dogs:get("f")))
        ngx.say(#dogs:get("bin"), " ", dogs:get("bin") == "a\0b")
        ngx.say(dogs:get("flagged"))
        ngx.say(select("#", dogs:get("s")), " ", select("#", dogs:get("flagged")))
        ngx.say(dogs:get("nothing"))
        -- a set without flags clears them
        dogs:set("flagged", "y")
        ngx.say(dogs:get("flagged"))
        dogs:set("neg", 1, 0, -1)
        ngx.say(dogs:get("neg"))
        dogs:set("frac", 1, 0, 5.7)
        ngx.say(dogs:get("neg"), " ", dogs:get("frac"))
        ngx.say(dogs:set("inf", 1/0), " ", dogs:get("inf"))
    }
}
--- request
GET /t
--- response_body
truenilfalse
truenilfalse
truenilfalse
truenilfalse
truenilfalse
truenilfalse
hello number 3.5
true false boolean
3 true
x42
1 2
nil
y
1-1
1 15
true inf
--- no_error_log
[error]



=== TEST 2: keys: nil, empty, too long, numbers and booleans go through tostring
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        ngx.say(dogs:set(nil, 1))
        ngx.say(dogs:set("", 1))
        ngx.say(dogs:set(string.rep("k", 65536), 1))
        ngx.say(dogs:set(string.rep("k", 65535), 1))
        ngx.say(dogs:get(string.rep("k", 65535)))
        ngx.say(dogs:get(nil))
        ngx.say(dogs:get(""))
        ngx.say(dogs:get(string.rep("k", 65536)))
        ngx.say(dogs:set(12, 34), " ", dogs:get(12), " ", dogs:get("12"))
        ngx.say(dogs:set(true, "yes"), " ", dogs:get("true"))
        ngx.say(dogs:get({}))
        ngx.say(dogs:incr(nil, 1))
        ngx.say(dogs:ttl(""))
        ngx.say(dogs:expire(nil, 1))
        ngx.say(dogs:delete(nil))
        ngx.say(dogs:get_stale(""))
    }
}
--- request
GET /t
--- response_body
nilnil key
nilempty key
nilkey too long
truenilfalse
1
nilnil key
nilempty key
nilkey too long
true 34 34
true yes
nil
nilnil key
nilempty key
nilnil key
nilnil key
nilempty key
--- no_error_log
[error]



=== TEST 3: bad value types
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        ngx.say(dogs:set("k", {}))
        ngx.say(dogs:set("k", function() end))
        ngx.say(dogs:add("k", ngx.null))
        ngx.say(dogs:safe_set("k", coroutine.create(function() end)))
        ngx.say(dogs:lpush("l", true))
        ngx.say(dogs:rpush("l", nil))
        ngx.say(dogs:rpush("l", {}))
    }
}
--- request
GET /t
--- response_body
nilbad value type
nilbad value type
nilbad value type
nilbad value type
nilbad value type
nilbad value type
nilbad value type
--- no_error_log
[error]



=== TEST 4: add, safe_add, replace and delete
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:delete("a")
        dogs:delete("b")
        ngx.say("add: ", dogs:add("a", 1))
        ngx.say("add again: ", dogs:add("a", 2))
        ngx.say("safe_add again: ", dogs:safe_add("a", 2))
        ngx.say("safe_add new: ", dogs:safe_add("b", "x"))
        ngx.say("get: ", dogs:get("a"), " ", dogs:get("b"))
        ngx.say("replace missing: ", dogs:replace("zz", 1))
        ngx.say("replace: ", dogs:replace("a", "now a string"))
        ngx.say("get: ", dogs:get("a"))
        ngx.say("add nil: ", dogs:add("c", nil))
        ngx.say("replace nil: ", dogs:replace("a", nil))
        ngx.say("safe_add nil: ", dogs:safe_add("c"))
        ngx.say("delete: ", dogs:delete("a"))
        ngx.say("get: ", dogs:get("a"))
        ngx.say("delete missing: ", dogs:delete("a"))
        ngx.say("set nil deletes: ", dogs:set("b", nil), " ", dogs:get("b"))
        ngx.say("safe_set: ", dogs:safe_set("b", 2), " ", dogs:get("b"))
    }
}
--- request
GET /t
--- response_body
add: truenilfalse
add again: falseexistsfalse
safe_add again: falseexistsfalse
safe_add new: truenilfalse
get: 1 x
replace missing: falsenot foundfalse
replace: truenilfalse
get: now a string
add nil: falseattempt to add or replace nil valuesfalse
replace nil: falseattempt to add or replace nil valuesfalse
safe_add nil: falseattempt to add or replace nil valuesfalse
delete: truenilfalse
get: nil
delete missing: truenilfalse
set nil deletes: true nil
safe_set: true 2
--- no_error_log
[error]



=== TEST 5: expiry: get hides expired entries, get_stale still returns them (with flags)
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:set("k", "v", 0.05, 7)
        dogs:set("forever", "v")
        ngx.say("fresh: ", dogs:get("k"))
        ngx.say("fresh stale: ", dogs:get_stale("k"))
        ngx.say("forever stale: ", dogs:get_stale("forever"))
        ngx.say("missing stale: ", dogs:get_stale("nothing"), " ", select("#", dogs:get_stale("nothing")))
        ngx.sleep(0.1)
        -- ttl, expire and get_stale look without freeing anything; a plain get
        -- may free expired entries (as nginx does at its LRU tail)
        ngx.say("ttl negative: ", dogs:ttl("k") < 0)
        ngx.say("expired stale: ", dogs:get_stale("k"))
        ngx.say("expired: ", dogs:get("k"))
        ngx.say("add over expired: ", dogs:add("k", "new"), " ", dogs:get("k"))
        dogs:set("k", "v", 0.01)
        ngx.sleep(0.05)
        ngx.say("replace expired: ", dogs:replace("k", 1))
        ngx.say("incr expired: ", dogs:incr("k", 1))
    }
}
--- request
GET /t
--- response_body
fresh: v7
fresh stale: v7false
forever stale: vnilfalse
missing stale: nil 1
ttl negative: true
expired stale: v7true
expired: nil
add over expired: true new
replace expired: falsenot foundfalse
incr expired: nilnot found
--- no_error_log
[error]



=== TEST 6: an exptime below a millisecond means no expiry
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:set("k", 1, 0.0001)
        ngx.say(dogs:ttl("k"))
        dogs:set("k", 1, 1.5)
        ngx.say(dogs:ttl("k"))
        dogs:set("k", 1, 0)
        ngx.say(dogs:ttl("k"))
    }
}
--- request
GET /t
--- response_body
0
1.5
0
--- no_error_log
[error]



=== TEST 7: ttl and expire
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:set("k", "v")
        ngx.say("ttl: ", dogs:ttl("k"))
        ngx.say("expire: ", dogs:expire("k", 10))
        ngx.say("ttl: ", dogs:ttl("k"))
        ngx.say("expire string: ", dogs:expire("k", "5"), " ", dogs:ttl("k"))
        ngx.say("expire 0: ", dogs:expire("k", 0), " ", dogs:ttl("k"))
        ngx.say("expire -1: ", dogs:expire("k", -1), " ", dogs:ttl("k"))
        ngx.say("ttl missing: ", dogs:ttl("nothing"))
        ngx.say("expire missing: ", dogs:expire("nothing", 1))
        ngx.say(pcall(dogs.expire, dogs, "k"))
        ngx.say(pcall(dogs.expire, dogs, "k", false))
        -- an expired entry can be revived
        dogs:set("e", 1, 0.01)
        ngx.sleep(0.05)
        ngx.say("revive: ", dogs:expire("e", 0), " ", dogs:get("e"))
    }
}
--- request
GET /t
--- response_body
ttl: 0
expire: true
ttl: 10
expire string: true 5
expire 0: true 0
expire -1: true 0
ttl missing: nilnot found
expire missing: nilnot found
falsebad "exptime" argument
falsebad "exptime" argument
revive: true 1
--- no_error_log
[error]



=== TEST 8: incr without and with init, init_ttl, and its errors
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:delete("c")
        dogs:delete("t")
        ngx.say("missing: ", dogs:incr("c", 1))
        ngx.say("init: ", dogs:incr("c", 1, 10))
        ngx.say("again: ", dogs:incr("c", 1, 10))
        ngx.say("no init: ", dogs:incr("c", -2.5), " ", select("#", dogs:incr("c", 0)))
        ngx.say("string step: ", dogs:incr("c", "10"))
        dogs:set("s", "12")
        ngx.say("string value: ", dogs:incr("s", 1))
        ngx.say("string value with init: ", dogs:incr("s", 1, 0))
        dogs:set("flagged", 5, 100, 3)
        ngx.say("keeps flags: ", dogs:incr("flagged", 1), " ", dogs:get("flagged"))
        ngx.say("keeps ttl: ", dogs:ttl("flagged"))
        ngx.say("init_ttl: ", dogs:incr("t", 1, 0, 10), " ", dogs:ttl("t"))
        ngx.say("init_ttl ignored when found: ", dogs:incr("t", 1, 0, 50), " ", dogs:ttl("t"))
        ngx.say("init_ttl 0: ", dogs:incr("t0", 1, 0, 0), " ", dogs:ttl("t0"))
        dogs:delete("t0")
        ngx.say(pcall(dogs.incr, dogs, "c", 1, "x"))
        ngx.say(pcall(dogs.incr, dogs, "c", 1, {}))
        ngx.say(pcall(dogs.incr, dogs, "c", 1, nil, 5))
        ngx.say(pcall(dogs.incr, dogs, "c", 1, 0, -1))
        ngx.say(pcall(dogs.incr, dogs, "c", 1, 0, "x"))
        ngx.say(pcall(dogs.incr, dogs, "c", 1, "5"))
    }
}
--- request
GET /t
--- response_body
missing: nilnot found
init: 11nilfalse
again: 12nilfalse
no init: 9.5 1
string step: 19.5
string value: nilnot a number
string value with init: nilnot a number
keeps flags: 6 63
keeps ttl: 100
init_ttl: 1 10
init_ttl ignored when found: 2 10
init_ttl 0: 1 0
falsebad init arg: number expected, got string
falsebad init arg: number expected, got table
falsemust provide "init" when providing "init_ttl"
falsebad "init_ttl" argument
falsebad init_ttl arg: number expected, got string
true20.5nilfalse
--- no_error_log
[error]



=== TEST 9: incr with a step that is not a number raises (message without its position)
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:set("c", 1)
        for _, step in ipairs({"x", false, {}}) do
            local ok, err = pcall(dogs.incr, dogs, "c", step)
            ngx.say(ok, " ", (err:gsub("^.-:%d+: ", "")))
        end
        ngx.say(pcall(dogs.incr, dogs, "c"))
    }
}
--- request
GET /t
--- response_body_like
\Afalse cannot convert 'nil' to 'double'
false cannot convert 'nil' to 'double'
false cannot convert 'nil' to 'double'
false.*cannot convert 'nil' to 'double'
\z
--- no_error_log
[error]



=== TEST 10: exptime and flags arguments
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        ngx.say(pcall(dogs.set, dogs, "k", 1, -1))
        ngx.say(pcall(dogs.add, dogs, "k", 1, -0.5))
        ngx.say(pcall(dogs.set, dogs, nil, 1, -1))
        ngx.say(dogs:set("k", 1, false, false))
        ngx.say(dogs:set("k", 1, nil, nil))
        local ok, err = pcall(dogs.set, dogs, "k", 1, "10")
        ngx.say(ok, " ", (err:gsub("^.-:%d+: ", "")))
        local ok, err = pcall(dogs.set, dogs, "k", 1, {})
        ngx.say(ok, " ", (err:gsub("^.-:%d+: ", "")))
    }
}
--- request
GET /t
--- response_body
falsebad "exptime" argument
falsebad "exptime" argument
falsebad "exptime" argument
truenilfalse
truenilfalse
false attempt to compare string with number
false attempt to compare table with number
--- no_error_log
[error]



=== TEST 11: calling a method with . instead of : (bad "zone" argument, at the caller's line)
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        local calls = {
            function() local r = dogs.get("k") return r end,
            function() local r = dogs.get_stale("k") return r end,
            function() local r = dogs.set("k", 1) return r end,
            function() local r = dogs.safe_set("k", 1) return r end,
            function() local r = dogs.add("k", 1) return r end,
            function() local r = dogs.safe_add("k", 1) return r end,
            function() local r = dogs.replace("k", 1) return r end,
            function() local r = dogs.delete("k") return r end,
            function() local r = dogs.incr("k", 1) return r end,
            function() local r = dogs.ttl("k") return r end,
            function() local r = dogs.expire("k", 1) return r end,
            function() local r = dogs.flush_all() return r end,
            function() local r = dogs.capacity() return r end,
            function() local r = dogs.free_space() return r end,
            function() local r = dogs.get({}, "k") return r end,
            function() local r = dogs.get({1}, "k") return r end,
            function() local r = dogs.get({ngx.null}, "k") return r end,
            function() local r = dogs.lpush(1, 2, 3) return r end,
            function() local r = dogs.llen({}, 2) return r end,
        }
        for i, f in ipairs(calls) do
            local ok, err = pcall(f)
            local pos, msg = err:match("^(content_by_lua%(nginx%.conf:%d+%):%d+: )(.*)$")
            ngx.say(i, " ", ok, " ", pos ~= nil, " ", msg or err)
        end
    }
}
--- request
GET /t
--- response_body
1 false true bad "zone" argument
2 false true bad "zone" argument
3 false true bad "zone" argument
4 false true bad "zone" argument
5 false true bad "zone" argument
6 false true bad "zone" argument
7 false true bad "zone" argument
8 false true bad "zone" argument
9 false true bad "zone" argument
10 false true bad "zone" argument
11 false true bad "zone" argument
12 false true bad "zone" argument
13 false true bad "zone" argument
14 false true bad "zone" argument
15 false true bad "zone" argument
16 false true bad "zone" argument
17 false true bad "zone" argument
18 false true bad "zone" argument
19 false true bad "zone" argument
--- no_error_log
[error]



=== TEST 12: lists: push, pop, llen
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:delete("l")
        ngx.say("lpush: ", dogs:lpush("l", "a"))
        ngx.say("rpush: ", dogs:rpush("l", 2))
        ngx.say("lpush: ", dogs:lpush("l", "c"))
        ngx.say("llen: ", dogs:llen("l"))
        ngx.say("rpop: ", dogs:rpop("l"), " ", type(dogs:lpush("l", 5)))
        ngx.say("lpop: ", dogs:lpop("l"), " ", dogs:lpop("l"), " ", dogs:lpop("l"))
        ngx.say("llen: ", dogs:llen("l"))
        ngx.say("lpop empty: ", dogs:lpop("l"), " ", select("#", dogs:lpop("l")))
        ngx.say("llen missing: ", dogs:llen("nothing"))
        ngx.say("rpop missing: ", dogs:rpop("nothing"))
        dogs:rpush("l", 1)
        ngx.say("get list: ", dogs:get("l"))
        ngx.say("get_stale list: ", dogs:get_stale("l"))
        ngx.say("incr list: ", dogs:incr("l", 1))
        ngx.say("ttl list: ", dogs:ttl("l"))
        ngx.say("set over list: ", dogs:set("l", "v"), " ", dogs:get("l"))
        ngx.say("push on string: ", dogs:lpush("l", 1))
        ngx.say("pop on string: ", dogs:rpop("l"))
        ngx.say("llen on string: ", dogs:llen("l"))
        ngx.say("number key: ", dogs:rpush(5, "x"), " ", dogs:lpop("5"))
        ngx.say("nil key: ", dogs:lpush(nil, 1))
        ngx.say("empty key: ", dogs:rpop(""))
        ngx.say("long key: ", dogs:llen(string.rep("k", 65536)))
    }
}
--- request
GET /t
--- response_body
lpush: 1
rpush: 2
lpush: 3
llen: 3
rpop: 2 number
lpop: 5 c a
llen: 0
lpop empty: nil 1
llen missing: 0
rpop missing: nil
get list: nilvalue is a list
get_stale list: nilvalue is a list
incr list: nilnot a number
ttl list: 0
set over list: true v
push on string: nilvalue not a list
pop on string: nilvalue not a list
llen on string: nilvalue not a list
number key: 1 x
nil key: nilnil key
empty key: nilempty key
long key: nilkey too long
--- no_error_log
[error]



=== TEST 13: an expired list or value is replaced by a new list
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:delete("l")
        dogs:rpush("l", "x")
        dogs:rpush("l", "y")
        dogs:expire("l", 0.01)
        dogs:set("n", 1, 0.01)
        ngx.sleep(0.05)
        ngx.say("llen expired: ", dogs:llen("l"))
        ngx.say("pop expired: ", dogs:lpop("l"))
        ngx.say("push expired list: ", dogs:rpush("l", "z"), " ", dogs:ttl("l"))
        ngx.say("push expired value: ", dogs:rpush("n", "z"), " ", dogs:lpop("n"))
        dogs:delete("l")
    }
}
--- request
GET /t
--- response_body
llen expired: 0
pop expired: nil
push expired list: 1 0
push expired value: 1 z
--- no_error_log
[error]



=== TEST 14: list functions check their arguments as lua-nginx-module's C code does
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        local calls = {
            function() local r = dogs.lpush("k", 1) return r end,
            function() local r = dogs:rpush("k", 1, 2) return r end,
            function() local r = dogs:lpop() return r end,
            function() local r = dogs:rpop("k", 1) return r end,
            function() local r = dogs:llen() return r end,
            function() local r = dogs:lpush({}, 1) return r end,
            function() local r = dogs:llen(function() end) return r end,
            function() local r = dogs:get_keys("x") return r end,
            function() local r = dogs:flush_expired({}) return r end,
            function() local r = dogs:get_keys(1, 2) return r end,
            function() local r = dogs.get_keys() return r end,
            function() local r = dogs.flush_expired("x") return r end,
            function() local r = dogs.get_keys({}) return r end,
        }
        for i, f in ipairs(calls) do
            local ok, err = pcall(f)
            ngx.say(i, " ", ok, " ", (err:gsub("^content_by_lua%(nginx%.conf:%d+%):%d+: ", "")))
        end
    }
}
--- request
GET /t
--- response_body
1 false expecting 3 arguments, but only seen 2
2 false expecting 3 arguments, but only seen 4
3 false expecting 2 arguments, but only seen 1
4 false expecting 2 arguments, but only seen 3
5 false expecting 2 arguments, but only seen 1
6 false bad argument #1 to 'lpush' (string expected, got table)
7 false bad argument #1 to 'llen' (string expected, got function)
8 false bad argument #1 to 'get_keys' (number expected, got string)
9 false bad argument #1 to 'flush_expired' (number expected, got table)
10 false expecting 1 or 2 argument(s), but saw 3
11 false expecting 1 or 2 argument(s), but saw 0
12 false bad argument #1 to 'flush_expired' (table expected, got string)
13 false bad user data for the ngx_shm_zone_t pointer
--- no_error_log
[error]



=== TEST 15: flush_all expires everything (still readable stale), flush_expired frees
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:flush_all()
        dogs:flush_expired()
        for i = 1, 10 do dogs:set("k" .. i, i) end
        ngx.say("flush_all returns ", select("#", dogs:flush_all()))
        ngx.say("stale: ", dogs:get_stale("k10"))
        ngx.say("keys: ", #dogs:get_keys())
        -- the three least recently used went at once, the rest waits
        ngx.say("flush_expired(2): ", dogs:flush_expired(2))
        ngx.say("flush_expired: ", dogs:flush_expired())
        ngx.say("flush_expired: ", dogs:flush_expired())
        ngx.say("get: ", dogs:get("k10"), " incr: ", dogs:incr("k10", 1))
        ngx.say("stale: ", dogs:get_stale("k10"))
        dogs:set("short", 1, 0.01)
        dogs:set("long", 1, 10)
        dogs:set("never", 1)
        ngx.sleep(0.05)
        ngx.say("flush_expired: ", dogs:flush_expired(), " ", dogs:get("long"), " ", dogs:get("never"))
        ngx.say("negative max: ", dogs:flush_expired(-1))
        dogs:flush_all()
        ngx.say("flush_expired(0): ", dogs:flush_expired(0))
    }
}
--- request
GET /t
--- response_body
flush_all returns 0
stale: 10niltrue
keys: 0
flush_expired(2): 2
flush_expired: 5
flush_expired: 0
get: nil incr: nilnot found
stale: nil
flush_expired: 1 1 1
negative max: 0
flush_expired(0): 0
--- no_error_log
[error]



=== TEST 16: get_keys: oldest first, 1024 by default, 0 for all, expired ones left out
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:flush_all()
        dogs:flush_expired()
        ngx.say("empty: ", #dogs:get_keys())
        for i = 1, 1100 do dogs:set("key" .. i, i) end
        ngx.say("default: ", #dogs:get_keys(), " all: ", #dogs:get_keys(0), " 3: ", #dogs:get_keys(3))
        ngx.say("negative: ", #dogs:get_keys(-1), " string: ", #dogs:get_keys("5"))
        dogs:get("key1")
        dogs:expire("key2", 0.01)
        ngx.sleep(0.05)
        ngx.say(table.concat(dogs:get_keys(3), " "))
        local all = dogs:get_keys(0)
        ngx.say(#all, " ", all[#all])
    }
}
--- request
GET /t
--- response_body
empty: 0
default: 1024 all: 1100 3: 3
negative: 1100 string: 5
key3 key4 key5
1099 key1
--- no_error_log
[error]



=== TEST 17: capacity is the configured size; free_space counts whole free pages
--- http_config
lua_shared_dict dogs 1m;
lua_shared_dict cats 16k;
--- config
location = /t {
    content_by_lua_block {
        local dogs, cats = ngx.shared.dogs, ngx.shared.cats
        dogs:flush_all()
        dogs:flush_expired()
        ngx.say(dogs:capacity(), " ", cats:capacity(), " ", type(dogs:capacity()))
        local free = dogs:free_space()
        ngx.say(free % 4096 == 0, " ", free > 0.98 * dogs:capacity(), " ", free < dogs:capacity())
        for i = 1, 200 do dogs:set("big" .. i, string.rep("x", 4000)) end
        local less = dogs:free_space()
        ngx.say(less % 4096 == 0, " ", free - less >= 200 * 4000)
        dogs:flush_all()
        dogs:flush_expired()
        ngx.say(dogs:free_space() == free)
    }
}
--- request
GET /t
--- response_body
1048576 16384 number
true true true
true true
true
--- no_error_log
[error]



=== TEST 18: a full dict evicts the least recently used entries (forcible), safe_* do not
--- http_config
lua_shared_dict small 12k;
--- config
location = /t {
    content_by_lua_block {
        local d = ngx.shared.small
        d:flush_all()
        d:flush_expired()
        local n = 0
        while true do
            local ok, err, forcible = d:set(string.format("k%03d", n), n)
            if not ok or forcible then
                ngx.say("first set that evicts: ", ok, " ", err, " ", forcible)
                break
            end
            n = n + 1
        end
        ngx.say("filled: ", n > 10)
        -- k000 was evicted; k001 is now the oldest: touch it, k002 goes next
        ngx.say("k000: ", d:get("k000"))
        ngx.say("k001: ", d:get("k001"))
        ngx.say(d:set("new2", 1))
        ngx.say("k001: ", d:get("k001"), " k002: ", d:get("k002"))
        ngx.say(d:safe_set("new3", 1))
        ngx.say(d:safe_add("new3", 1))
        ngx.say(d:add("new3", 1))
        local v, err, forcible = d:incr("new4", 1, 0)
        ngx.say(v, err, forcible and "" or "not forcible")
        ngx.say(d:lpush("list", 1))
        ngx.say(d:free_space())
    }
}
--- request
GET /t
--- response_body
first set that evicts: true nil true
filled: true
k000: nil
k001: 1
trueniltrue
k001: 1 k002: nil
falseno memoryfalse
falseno memoryfalse
trueniltrue
1nil
falseno memory
0
--- no_error_log
[error]



=== TEST 19: ngx.shared: one table per dict, sharing one metatable; unknown names are nil
--- http_config
lua_shared_dict dogs 1m;
lua_shared_dict cats 16k;
--- config
location = /t {
    content_by_lua_block {
        local n = 0
        for name, d in pairs(ngx.shared) do n = n + 1 end
        ngx.say(n, " ", type(ngx.shared.birds))
        local dogs, cats = ngx.shared.dogs, ngx.shared.cats
        ngx.say(type(dogs), " ", type(dogs[1]), " ", getmetatable(dogs) == getmetatable(cats))
        ngx.say(dogs.get == cats.get, " ", type(dogs.get_keys))
        ngx.say(ngx.shared["dogs"] == dogs)
        local core = require "resty.core.shdict"
        ngx.say(type(core.version), " ", dogs:set("k", 1), " ", dogs:get("k"))
    }
}
--- request
GET /t
--- response_body
2 nil
table userdata true
true function
true
string true 1
--- no_error_log
[error]



=== TEST 20: dicts are shared with timers (and across requests)
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:delete("from_timer")
        dogs:incr("runs", 1, 0)
        assert(ngx.timer.at(0, function()
            local d = ngx.shared.dogs
            d:set("from_timer", "hello " .. d:get("from_request"))
        end))
        dogs:set("from_request", "from the request")
        ngx.sleep(0.05)
        ngx.say(dogs:get("from_timer"))
        ngx.say(dogs:get("runs") >= 1)
    }
}
--- request
GET /t
--- response_body
hello from the request
true
--- no_error_log
[error]



=== TEST 21: a value larger than the dict fails with no memory
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        dogs:flush_all()
        dogs:flush_expired()
        ngx.say(dogs:set("huge", string.rep("x", 2 * 1024 * 1024)))
        ngx.say(dogs:safe_set("huge", string.rep("x", 2 * 1024 * 1024)))
        ngx.say(dogs:rpush("huge", string.rep("x", 2 * 1024 * 1024)))
        ngx.say(dogs:llen("huge"))
        ngx.say(dogs:set("big", string.rep("x", 500 * 1024)), " ", #dogs:get("big"))
    }
}
--- request
GET /t
--- response_body
falseno memoryfalse
falseno memoryfalse
nilno memory
0
true 512000
--- no_error_log
[error]



=== TEST 22: how much fits: each entry is charged nginx's slab size for 73 + key + value bytes
--- moonwire_only
--- http_config
lua_shared_dict dogs 1m;
lua_shared_dict tiny 12k;
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        -- OpenResty fits 8095, 2016, 504, 252 and 126 of these
        for _, len in ipairs({10, 200, 1000, 3000, 5000}) do
            dogs:flush_all()
            dogs:flush_expired()
            local v, n = string.rep("v", len), 0
            while dogs:safe_set(string.format("k%05d", n), v) do n = n + 1 end
            ngx.say(len, ": ", n)
        end
        dogs:flush_all()
        dogs:flush_expired()
        ngx.say("free: ", dogs:free_space(), " tiny: ", ngx.shared.tiny:free_space())
    }
}
--- request
GET /t
--- response_body
10: 8096
200: 2024
1000: 506
3000: 253
5000: 126
free: 1036288 tiny: 4096
--- no_error_log
[error]



=== TEST 23: init_by_lua fills a dict the workers then read
--- http_config
lua_shared_dict dogs 1m;
init_by_lua_block {
    local dogs = ngx.shared.dogs
    dogs:set("from_init", "hello")
    dogs:incr("init_runs", 1, 0)
}
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        ngx.say(dogs:get("from_init"), " ", dogs:get("init_runs"))
    }
}
--- request
GET /t
--- response_body
hello 1
--- no_error_log
[error]



=== TEST 24: init_worker_by_lua writes to a dict
--- http_config
lua_shared_dict dogs 1m;
init_worker_by_lua_block {
    ngx.shared.dogs:set("worker_started", true)
    ngx.shared.dogs:incr("workers", 1, 0)
}
--- config
location = /t {
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        ngx.say(dogs:get("worker_started"), " ", dogs:get("workers"))
    }
}
--- request
GET /t
--- response_body
true 1
--- no_error_log
[error]



=== TEST 25: the dict API in rewrite, access, header_filter and log phases
--- http_config
lua_shared_dict dogs 1m;
--- config
location = /t {
    rewrite_by_lua_block { ngx.shared.dogs:set("rewrite", 1) }
    access_by_lua_block { ngx.shared.dogs:incr("rewrite", 1) }
    header_filter_by_lua_block { ngx.shared.dogs:lpush("hf", "x") }
    log_by_lua_block { ngx.shared.dogs:set("logged", ngx.shared.dogs:llen("hf")) }
    content_by_lua_block {
        local dogs = ngx.shared.dogs
        ngx.say(dogs:get("rewrite"), " ", dogs:get("logged") ~= nil or "first")
    }
}
--- request
GET /t
--- response_body_like
^2 (first|true)$
--- no_error_log
[error]
