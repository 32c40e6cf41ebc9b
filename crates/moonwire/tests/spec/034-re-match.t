# ngx.re.match: captures, named captures, ctx.pos, the res_table argument,
# every option letter, error returns and raised errors. Expectations are
# lua-nginx-module 0.10.23's (with lua-resty-core); where PCRE1 (Debian's
# build) and PCRE2 (moonwire, current OpenResty) word an error differently
# the block accepts both.

=== TEST 1: groups by number; a group that did not take part is false
--- config
location = /t {
    content_by_lua_block {
        local m = ngx.re.match("key=42;", [[(\w+)=(\d+)(x)?(;)]])
        ngx.say(m[0], " | ", m[1], " | ", m[2], " | ", tostring(m[3]), " | ", m[4])
        ngx.say(#m, " ", type(m[3]))
        m = ngx.re.match("a", "(a)(b)?(c)?")
        ngx.say(m[1], " ", tostring(m[2]), " ", tostring(m[3]), " ", tostring(m[4]))
    }
}
--- request
GET /t
--- response_body
key=42; | key | 42 | false | ;
4 boolean
a false false nil
--- no_error_log
[error]



=== TEST 2: no match is one nil; an empty match is an empty string
--- config
location = /t {
    content_by_lua_block {
        ngx.say(select("#", ngx.re.match("abc", "x")), " ", tostring(ngx.re.match("abc", "x")))
        local m = ngx.re.match("abc", "x*")
        ngx.say("[", m[0], "] ", #m)
        ngx.say(ngx.re.match("", "^$")[0] == "")
        ngx.say(#ngx.re.match("a\0b\0", "b.$")[0])
    }
}
--- request
GET /t
--- response_body
1 nil
[] 0
true
2
--- no_error_log
[error]



=== TEST 3: named groups appear under their name and their number
--- config
location = /t {
    content_by_lua_block {
        local m = ngx.re.match("2024-05-17", [[(?<year>\d+)-(\d+)-(?<day>\d+)(?<tz>Z)?]])
        ngx.say(m.year, " ", m[1], " ", m[2], " ", m.day, " ", m[3], " ", tostring(m.tz), " ", tostring(m[4]))
        local keys = {}
        for k in pairs(m) do keys[#keys + 1] = tostring(k) end
        table.sort(keys)
        ngx.say(table.concat(keys, ","))
    }
}
--- request
GET /t
--- response_body
2024 2024 05 17 17 false false
0,1,2,3,4,day,tz,year
--- no_error_log
[error]



=== TEST 4: D: duplicate names give a list of the groups that matched
--- config
location = /t {
    content_by_lua_block {
        local m = ngx.re.match("ab", "(?<n>a)(?<n>b)", "D")
        ngx.say(type(m.n), " ", table.concat(m.n, ","), " ", m[1], m[2])
        m = ngx.re.match("b", "(?<n>a)|(?<n>b)", "D")
        ngx.say(#m.n, " ", m.n[1], " ", tostring(m[1]), " ", m[2])
        m = ngx.re.match("c", "(?<n>a)|(?<n>b)|c", "D")
        ngx.say(tostring(m.n), " ", m[0])
        m = ngx.re.match("x", "(?<solo>x)", "D")
        ngx.say(type(m.solo), " ", m.solo[1])
        local ok, err = ngx.re.match("ab", "(?<n>a)(?<n>b)")
        ngx.say(ok, " ", err ~= nil)
    }
}
--- request
GET /t
--- response_body
table a,b ab
1 b false b
nil c
table x
nil true
--- no_error_log
[error]



=== TEST 5: (?J) without D: a name takes the value of its last group
--- config
location = /t {
    content_by_lua_block {
        local m = ngx.re.match("b", "(?J)(?<n>a)|(?<n>b)")
        ngx.say(m.n, " ", tostring(m[1]), " ", m[2])
        m = ngx.re.match("a", "(?J)(?<n>a)|(?<n>b)")
        ngx.say(tostring(m.n), " ", m[1], " ", tostring(m[2]))
    }
}
--- request
GET /t
--- response_body
b false b
false a false
--- no_error_log
[error]



=== TEST 6: res_table receives the captures and is returned; other keys stay
--- config
location = /t {
    content_by_lua_block {
        local t = { "old1", "old2", "old3", keep = "yes" }
        local m = ngx.re.match("hello", "(h)(e)", "", nil, t)
        ngx.say(m == t, " ", t[0], " ", t[1], " ", t[2], " ", t[3], " ", t.keep)
        m = ngx.re.match("zzz", "(h)", "", nil, t)
        ngx.say(tostring(m), " ", t[0])
        m = ngx.re.match("hi", "(?<first>h)", "", nil, t)
        ngx.say(t.first, " ", t[1], " ", t[2])
    }
}
--- request
GET /t
--- response_body
true he h e old3 yes
nil he
h h e
--- no_error_log
[error]



=== TEST 7: ctx.pos is where the search starts and is moved past the match
--- config
location = /t {
    content_by_lua_block {
        local ctx = {}
        local s = "a1 b22 c333"
        while true do
            local m = ngx.re.match(s, [[[a-z](\d+)]], "", ctx)
            if not m then break end
            ngx.say(m[1], " pos=", ctx.pos)
        end
        ngx.say("last pos=", ctx.pos)
        ctx = { pos = 0 }
        ngx.say(ngx.re.match("ab", "a", "", ctx)[0], " ", ctx.pos)
        ctx = { pos = -5 }
        ngx.say(ngx.re.match("ab", "a", "", ctx)[0], " ", ctx.pos)
        ctx = { pos = 2.9 }
        ngx.say(ngx.re.match("abab", "a", "", ctx)[0], " ", ctx.pos)
        ctx = { pos = 3 }
        ngx.say(ngx.re.match("abc", "", "", ctx)[0] == "", " ", ctx.pos)
        ctx = { pos = 4 }
        ngx.say(ngx.re.match("abc", "$", "", ctx)[0] == "", " ", ctx.pos)
        ctx = { pos = 2 }
        ngx.say(tostring(ngx.re.match("abc", "x", "", ctx)), " ", ctx.pos)
    }
}
--- request
GET /t
--- response_body
1 pos=3
22 pos=7
333 pos=12
last pos=12
a 2
a 2
a 4
true 3
true 4
nil 2
--- no_error_log
[error]



=== TEST 8: ctx.pos past the end of the subject is a match error
--- config
location = /t {
    content_by_lua_block {
        local m, err = ngx.re.match("abc", "b", "", { pos = 10 })
        ngx.say(tostring(m), " ", err)
    }
}
--- request
GET /t
--- response_body_like
^nil pcre_exec\(\) failed: -\d+
$
--- no_error_log
[error]



=== TEST 9: options i, m, s and x
--- config
location = /t {
    content_by_lua_block {
        local function m0(...)
            local m, err = ngx.re.match(...)
            return m and m[0] or ("nil " .. tostring(err))
        end
        ngx.say(m0("HeLLo", "l+", "i"), " ", m0("HeLLo", "l+"))
        ngx.say(m0("a\nb", "^b$"), " ", m0("a\nb", "^b$", "m"))
        ngx.say(#m0("a\nb", "a.b", "s"), " ", m0("a\nb", "a.b"))
        ngx.say(m0("ab", "a b # comment", "x"), " ", m0("a b", "a b"))
        ngx.say(m0("HELLO", "l + o", "ix"))
    }
}
--- request
GET /t
--- response_body
LL nil nil
nil nil b
3 nil nil
ab a b
LLO
--- no_error_log
[error]



=== TEST 10: a anchors the match at the start position
--- config
location = /t {
    content_by_lua_block {
        ngx.say(tostring(ngx.re.match("hello", "l", "a")), " ", ngx.re.match("hello", "h", "a")[0])
        local ctx = { pos = 3 }
        ngx.say(ngx.re.match("hello", "l+", "a", ctx)[0], " ", ctx.pos)
        ctx = { pos = 2 }
        ngx.say(tostring(ngx.re.match("hello", "l", "a", ctx)), " ", ctx.pos)
    }
}
--- request
GET /t
--- response_body
nil h
ll 5
nil 2
--- no_error_log
[error]



=== TEST 11: d is DFA matching: the longest match, no sub-captures
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.match("abcd", "b|bc|bcd", "d")[0], " ", ngx.re.match("abcd", "b|bc|bcd")[0])
        local m = ngx.re.match("abcd", "(b)(c)", "d")
        ngx.say(m[0], " ", tostring(m[1]), " ", tostring(m[2]), " ", #m)
        m = ngx.re.match("abcd", "(?<x>b)c", "d")
        ngx.say(m[0], " ", tostring(m.x))
        ngx.say(ngx.re.match("aaa", "a+?", "d")[0], " ", ngx.re.match("aaa", "a+?", "jd")[0])
        ngx.say(tostring(ngx.re.match("abc", "x", "d")))
    }
}
--- request
GET /t
--- response_body
bcd b
bc nil nil 0
bc nil
aaa aaa
nil
--- no_error_log
[error]



=== TEST 12: u: UTF-8 characters (without Unicode properties for \w)
--- config
location = /t {
    content_by_lua_block {
        local function m0(...)
            local m, err = ngx.re.match(...)
            return m and m[0] or ("nil " .. tostring(err))
        end
        ngx.say(m0("你好", "^.$"), " ", m0("你好", "^..$", "u"), " ", m0("你好", "^..$", "U"))
        ngx.say(m0("é", [[\w]], "u"))
        ngx.say(m0("Élan", "élan", "iu"), " ", m0("Élan", "élan", "i"))
        local ctx = {}
        ngx.say(m0("añb", "ñ", "u", ctx), " ", ctx.pos)
    }
}
--- request
GET /t
--- response_body
nil nil 你好 你好
nil nil
Élan nil nil
ñ 4
--- no_error_log
[error]



=== TEST 13: u with invalid UTF-8 in the subject or the pattern
--- config
location = /t {
    content_by_lua_block {
        local m, err = ngx.re.match(string.sub("你好", 1, 4), "你好", "u")
        ngx.say(tostring(m), " ", err)
        m, err = ngx.re.match("ab", "\xff", "u")
        ngx.say(tostring(m), " ", err ~= nil)
        m, err = ngx.re.match(string.sub("你好", 1, 4), "你")
        ngx.say(m[0] == "你", " ", tostring(err))
    }
}
--- request
GET /t
--- response_body_like
^nil pcre_exec\(\) failed: -\d+
nil true
true nil
$
--- no_error_log
[error]



=== TEST 14: U skips validating the subject: invalid bytes never match
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        local m = ngx.re.match("\xff\xfe好", ".", "U")
        ngx.say(m[0])
        ngx.say(ngx.re.match("a\xffb", "a.b", "U") == nil)
        ngx.say(ngx.re.gsub("x\xffy", "[a-z]", "*", "U") == "*\xff*")
    }
}
--- request
GET /t
--- response_body
好
true
true
--- no_error_log
[error]



=== TEST 15: J: JavaScript-compatible escapes and classes
--- config
location = /t {
    content_by_lua_block {
        local function m0(...)
            local m = ngx.re.match(...)
            return m and m[0] or "nil"
        end
        ngx.say(m0("A", [[\u0041]], "J"), " ", m0("x", "[^]", "J"), " ", m0("x", "[]", "J"))
        ngx.say(m0("a", [[(b)?\1a]], "J"), " ", m0("a", [[(b)?\1a]]))
    }
}
--- request
GET /t
--- response_body
A x nil
a nil
--- no_error_log
[error]



=== TEST 16: a bad pattern returns nil and the compiler's message
--- config
location = /t {
    content_by_lua_block {
        local m, err = ngx.re.match("hello", "(abc")
        ngx.say(tostring(m), " ", err)
        m, err = ngx.re.match("hello", "[a", "jo")
        ngx.say(tostring(m), " ", err)
    }
}
--- request
GET /t
--- response_body_like
^nil pcre2?_compile\(\) failed: missing (\)|closing parenthesis) in "\(abc"
nil pcre2?_compile\(\) failed: missing terminating \] for character class in "\[a"
$
--- no_error_log
[error]



=== TEST 17: an unknown option letter raises an error naming it
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.re.match, "hello", "h", "oz")
        ngx.say(ok, " ", err)
        ok, err = pcall(ngx.re.match, "hello", "h", "j i")
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body_like
^false \S+:\d+: unknown flag "z" \(flags "oz"\)
false \S+:\d+: unknown flag " " \(flags "j i"\)
$
--- no_error_log
[error]



=== TEST 18: an unknown option letter outside pcall fails the request
--- config
location = /t {
    content_by_lua_block {
        ngx.re.match("hello", "h", "q")
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
unknown flag "q" (flags "q")



=== TEST 19: the subject goes through tostring
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.match(12345, "3(4)")[1])
        ngx.say(ngx.re.match(nil, "^nil$")[0])
        ngx.say(ngx.re.match(true, "ru")[0])
        ngx.say(ngx.re.match(setmetatable({}, { __tostring = function() return "obj" end }), "o.")[0])
        ngx.say(ngx.re.find(1.5, "%.") == nil, " ", ngx.re.find(1.5, [[\.]]))
    }
}
--- request
GET /t
--- response_body
4
nil
ru
ob
true 22
--- no_error_log
[error]



=== TEST 20: argument type errors
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        local function try(...)
            local ok, err = pcall(ngx.re.match, ...)
            ngx.say(err)
        end
        try("a", nil)
        try("a", {})
        try("a", "a", true)
        try("a", "a", "", 5)
        try("a", "a", "", { pos = "2" })
        try("a", "a", "", nil, "t")
    }
}
--- request
GET /t
--- response_body_like
^\S+:\d+: bad argument #2 to 'match' \(string expected, got nil\)
\S+:\d+: bad argument #2 to 'match' \(string expected, got table\)
\S+:\d+: bad argument #3 to 'match' \(string expected, got boolean\)
\S+:\d+: bad argument #4 to 'match' \(table expected, got number\)
\S+:\d+: bad argument #4 to 'match' \(bad pos field type in the ctx table argument: string\)
\S+:\d+: bad argument #5 to 'match' \(table expected, got string\)
$
--- no_error_log
[error]



=== TEST 21: a pattern with a NUL byte is matched as written
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.match("a\0b", "\0")[0] == "\0", " ", #ngx.re.match("a\0b", "\0b")[0])
        ngx.say(ngx.re.find("a\0b", "\0b"))
    }
}
--- request
GET /t
--- response_body
true 2
23
--- no_error_log
[error]



=== TEST 22: regexes work in timer callbacks
--- config
location = /t {
    content_by_lua_block {
        ngx.timer.at(0, function()
            local m = ngx.re.match("timer 42", [[\d+]], "jo")
            local s, n = ngx.re.gsub("a-b", "-", "+")
            ngx.log(ngx.WARN, "in timer: ", m[0], " ", s, " ", n)
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
in timer: 42 a+b 1
--- no_error_log
[error]



=== TEST 23: regexes work in init_worker_by_lua
--- http_config
init_worker_by_lua_block {
    local m = ngx.re.match("worker 7", [[(\d)]], "jo")
    package.loaded.re_from_init = m[1] .. " " .. (ngx.re.gsub("x.y", [[\.]], "-"))
}
--- config
location = /t {
    content_by_lua_block {
        ngx.say(package.loaded.re_from_init)
    }
}
--- request
GET /t
--- response_body
7 x-y
--- no_error_log
[error]



=== TEST 24: finalizers that use ngx.re while a match builds its results
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        local bad = 0
        for i = 1, 20000 do
            local p = newproxy(true)
            getmetatable(p).__gc = function()
                ngx.re.match("zz" .. "9999999999999999", [[(\d+)(\d)]], "o")
                ngx.re.gsub("qqqqqqqqqqqqqqqqqqqqqqqqqqqq", "q", "$0$0", "o")
            end
            local m = ngx.re.match("ab12", [[(?<w>[a-z]+)(\d+)]], "o")
            if m[1] ~= "ab" or m[2] ~= "12" or m.w ~= "ab" then bad = bad + 1 end
            local s = ngx.re.gsub("x1y2", [[\d]], "<$0>", "o")
            if s ~= "x<1>y<2>" then bad = bad + 1 end
            local it = ngx.re.gmatch("k=v", [[(\w)=(\w)]], "o")
            m = it()
            if m[2] ~= "v" then bad = bad + 1 end
        end
        ngx.say("bad: ", bad)
    }
}
--- request
GET /t
--- response_body
bad: 0
--- no_error_log
[error]



=== TEST 25: regexes and ngx.re.opt work in init_by_lua
--- http_config
init_by_lua_block {
    require("ngx.re").opt("jit_stack_size", 64 * 1024 * 1024)
    local m = ngx.re.match("init 5", [[\d]], "jo")
    INIT_RESULT = m[0] .. " " .. (ngx.re.gsub("a.b", [[\.]], "-", "jo"))
}
--- config
location = /t {
    content_by_lua_block {
        ngx.say(INIT_RESULT)
        -- the JIT stack set in init_by_lua is the one the worker uses
        local m, err = ngx.re.match(string.rep("a", 100000), "^(?:a|b)*[^a]", "j")
        ngx.say(tostring(m), " ", tostring(err))
    }
}
--- request
GET /t
--- response_body
5 a-b
nil nil
--- no_error_log
[error]



=== TEST 26: many groups
--- config
location = /t {
    content_by_lua_block {
        local pat = string.rep("(.)", 20) .. "(x)?"
        local m = ngx.re.match("abcdefghijklmnopqrstuvwxyz", pat, "jo")
        ngx.say(#m, " ", m[1], m[16], m[17], m[20], " ", tostring(m[21]))
        local s = ngx.re.sub("abcdefghijklmnopqrstuvwxyz", pat, "$20$17$1")
        ngx.say(s)
        local from, to = ngx.re.find("abcdefghijklmnopqrstuvwxyz", pat, "", nil, 18)
        ngx.say(from, " ", to)
    }
}
--- request
GET /t
--- response_body
21 apqt false
tqauvwxyz
18 18
--- no_error_log
[error]
