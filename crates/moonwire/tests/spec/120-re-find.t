# ngx.re.find: 1-based inclusive positions, nth, ctx.pos, errors.

=== TEST 1: positions of the whole match
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.find("hello, 1234", "[0-9]+"))
        ngx.say(select("#", ngx.re.find("hello", "[0-9]")), " ", tostring(ngx.re.find("hello", "[0-9]")))
        local from, to = ngx.re.find("abc", "")
        ngx.say(from, " ", to)
        from, to = ngx.re.find("abc", "$")
        ngx.say(from, " ", to)
        ngx.say(ngx.re.find("我爱你", "爱", "u"))
    }
}
--- request
GET /t
--- response_body
811
1 nil
1 0
4 3
46
--- no_error_log
[error]



=== TEST 2: nth picks a group
--- config
location = /t {
    content_by_lua_block {
        local s = "user: bob, id: 42"
        local re = [[(\w+): (\w+), (x)?id: (\d+)]]
        for _, nth in ipairs({ 0, 1, 2, 3, 4, 5, -1 }) do
            local from, to, err = ngx.re.find(s, re, "", nil, nth)
            ngx.say(nth, ": ", tostring(from), " ", tostring(to), " ", tostring(err))
        end
        ngx.say(select("#", ngx.re.find(s, re, "", nil, 3)))
        ngx.say(ngx.re.find("ab", "(a)(b)?", "", nil, 2))
        ngx.say(ngx.re.find("a", "(a)(b)?", "", nil, 2))
    }
}
--- request
GET /t
--- response_body
0: 1 17 nil
1: 1 4 nil
2: 7 9 nil
3: nil nil nil
4: 16 17 nil
5: nil nil nth out of bound
-1: 1 17 nil
2
22
nilnil
--- no_error_log
[error]



=== TEST 3: ctx.pos
--- config
location = /t {
    content_by_lua_block {
        local ctx = { pos = 3 }
        local s = "1a2b3c"
        while true do
            local from, to = ngx.re.find(s, "[0-9]", "jo", ctx)
            if not from then break end
            ngx.say(from, "-", to, " next ", ctx.pos)
        end
    }
}
--- request
GET /t
--- response_body
3-3 next 4
5-5 next 6
--- no_error_log
[error]



=== TEST 4: DFA mode reports no groups
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.find("abcd", "b|bcd", "d"))
        ngx.say(ngx.re.find("abcd", "(b)", "d", nil, 1))
    }
}
--- request
GET /t
--- response_body
24
nilnilnth out of bound
--- no_error_log
[error]



=== TEST 5: errors
--- config
location = /t {
    content_by_lua_block {
        local from, to, err = ngx.re.find("abc", "a{2,1}")
        ngx.say(tostring(from), " ", tostring(to), " ", err)
        from, to, err = ngx.re.find("abc", "b", "", { pos = 9 })
        ngx.say(tostring(from), " ", tostring(to), " ", err)
        local ok, e = pcall(ngx.re.find, "abc", "b", "k")
        ngx.say(ok, " ", e)
    }
}
--- request
GET /t
--- response_body_like
^nil nil pcre2?_compile\(\) failed: numbers out of order in \{\} quantifier in "a\{2,1\}" at "1?\}"
nil nil pcre_exec\(\) failed: -\d+
false \S+:\d+: unknown flag "k" \(flags "k"\)
$
--- no_error_log
[error]
