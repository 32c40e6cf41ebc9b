# The o option (compile once, per worker), lua_regex_cache_max_entries and
# lua_regex_match_limit.

=== TEST 1: o gives the same results as compiling every time
--- config
location = /t {
    content_by_lua_block {
        for _, opts in ipairs({ "", "o", "jo", "io" }) do
            local ctx = {}
            local m1 = ngx.re.match("x1 y22", [[(\w)(\d+)]], opts, ctx)
            local m2 = ngx.re.match("x1 y22", [[(\w)(\d+)]], opts, ctx)
            local f, t = ngx.re.find("x1 y22", [[\d+]], opts, nil, 0)
            local s = ngx.re.gsub("x1 y22", [[\d]], "#", opts)
            ngx.say(opts, ": ", m1[2], " ", m2[1], m2[2], " ", f, "-", t, " ", s, " ", ctx.pos)
        end
    }
}
--- request
GET /t
--- response_body
: 1 y22 2-2 x# y## 7
o: 1 y22 2-2 x# y## 7
jo: 1 y22 2-2 x# y## 7
io: 1 y22 2-2 x# y## 7
--- no_error_log
[error]



=== TEST 2: patterns built at run time are cached by content
--- config
location = /t {
    content_by_lua_block {
        local out = {}
        for i = 1, 50 do
            local pat = "(" .. "a" .. ")" .. (i % 2 == 0 and "b" or "c")
            local m = ngx.re.match("xabac", pat, "o")
            out[#out + 1] = m[0]
        end
        ngx.say(table.concat(out, ",", 1, 4), " ", #out)
        collectgarbage()
        ngx.say(ngx.re.match("xabac", "(a)c", "o")[0], " ", ngx.re.match("xabac", "(a)b", "o")[0])
    }
}
--- request
GET /t
--- response_body
ac,ab,ac,ab 50
ac ab
--- no_error_log
[error]



=== TEST 3: past lua_regex_cache_max_entries regexes still work
--- http_config
lua_regex_cache_max_entries 2;
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.match("hello, 1234", "([0-9]+)", "o")[1])
        ngx.say(ngx.re.match("howdy, 567", "([0-9]+)", "oi")[1])
        ngx.say(ngx.re.match("hiya, 98", "([0-9]+)", "ox")[1])
        ngx.say(ngx.re.gsub("hiya, 98", "([0-9])", "<$1>", "ojx"))
        local n = 0
        for m in ngx.re.gmatch("1 2 3", "[0-9]", "oj") do n = n + 1 end
        ngx.say(n)
    }
}
--- request
GET /t
--- response_body
1234
567
98
hiya, <9><8>2
3
--- no_error_log
[error]



=== TEST 4: lua_regex_cache_max_entries 0 turns the cache off without a warning
--- http_config
lua_regex_cache_max_entries 0;
--- config
location = /t {
    content_by_lua_block {
        for i = 1, 3 do
            ngx.say(ngx.re.match("v" .. i, "[0-9]", "o")[0], " ", (ngx.re.sub("v" .. i, "v", "w", "jo")))
        end
    }
}
--- request
GET /t
--- response_body
1 w1
2 w2
3 w3
--- no_error_log
[error]
[warn]



=== TEST 5: lua_regex_match_limit stops runaway backtracking
--- http_config
lua_regex_match_limit 1000;
--- config
location = /t {
    content_by_lua_block {
        local subj = string.rep("a", 30) .. "!"
        local m, err = ngx.re.match(subj, "^(a|aa)+$")
        ngx.say(tostring(m), " ", err)
        ngx.say(ngx.re.match("aaa", "^(a|aa)+$")[0])
    }
}
--- request
GET /t
--- response_body_like
^nil pcre_exec\(\) failed: -\d+
aaa
$
--- no_error_log
[error]
