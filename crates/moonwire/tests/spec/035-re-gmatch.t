# ngx.re.gmatch: the iterator, empty matches, named captures, errors from
# compiling and from iterating, and iterators kept across yields.

=== TEST 1: the iterator returns each match, then nil for good
--- config
location = /t {
    content_by_lua_block {
        local it = ngx.re.gmatch("a=1, b=22, c=333", [[(\w)=(\d+)]])
        for m in it do
            ngx.say(m[0], " ", m[1], " ", m[2])
        end
        ngx.say(select("#", it()), " ", tostring(it()), " ", tostring(it()))
        it = ngx.re.gmatch("none here", [[\d]])
        ngx.say(tostring(it()))
    }
}
--- request
GET /t
--- response_body
a=1 a 1
b=22 b 22
c=333 c 333
1 nil nil
nil
--- no_error_log
[error]



=== TEST 2: empty matches advance one byte at a time
--- config
location = /t {
    content_by_lua_block {
        local n = 0
        for m in ngx.re.gmatch("hello", "x|") do
            n = n + 1
            assert(m[0] == "")
        end
        ngx.say("empty matches: ", n)
        local out = {}
        for m in ngx.re.gmatch("aab", "a*") do
            out[#out + 1] = "[" .. m[0] .. "]"
        end
        ngx.say(table.concat(out))
        out = {}
        for m in ngx.re.gmatch("", "x*") do
            out[#out + 1] = "[" .. m[0] .. "]"
        end
        ngx.say(#out, " ", table.concat(out))
    }
}
--- request
GET /t
--- response_body
empty matches: 6
[aa][][]
1 []
--- no_error_log
[error]



=== TEST 3: named captures, unmatched groups and D
--- config
location = /t {
    content_by_lua_block {
        for m in ngx.re.gmatch("k1=v1;k2", [[(?<key>\w+)(?:=(?<val>\w+))?]]) do
            ngx.say(m.key, " ", tostring(m.val), " ", m[1], " ", tostring(m[2]))
        end
        local it = ngx.re.gmatch("ab;c", "(?<n>[a-z])(?<n>[a-z])?", "D")
        local m = it()
        ngx.say(table.concat(m.n, ","))
        m = it()
        ngx.say(table.concat(m.n, ","), " ", #m.n)
    }
}
--- request
GET /t
--- response_body
k1 v1 k1 v1
k2 false k2 false
a,b
c 1
--- no_error_log
[error]



=== TEST 4: options apply to every step (i, o, j, d)
--- config
location = /t {
    content_by_lua_block {
        for _, opts in ipairs({ "i", "io", "ijo", "id" }) do
            local out = {}
            for m in ngx.re.gmatch("aBcAbC", "ab|abc", opts) do
                out[#out + 1] = m[0]
            end
            ngx.say(opts, ": ", table.concat(out, ","))
        end
    }
}
--- request
GET /t
--- response_body
i: aB,Ab
io: aB,Ab
ijo: aB,Ab
id: aBc,AbC
--- no_error_log
[error]



=== TEST 5: a bad pattern is nil and the message; a bad option raises
--- config
location = /t {
    content_by_lua_block {
        local it, err = ngx.re.gmatch("hello", "(abc")
        ngx.say(tostring(it), " ", err)
        local ok, e = pcall(ngx.re.gmatch, "hello", "l", "jy")
        ngx.say(ok, " ", e)
    }
}
--- request
GET /t
--- response_body_like
^nil pcre2?_compile\(\) failed: missing (\)|closing parenthesis) in "\(abc"
false \S+:\d+: unknown flag "y" \(flags "jy"\)
$
--- no_error_log
[error]



=== TEST 6: a match error ends the iteration with nil and the message
--- config
location = /t {
    content_by_lua_block {
        local it = ngx.re.gmatch(string.sub("你好", 1, 4), "你好", "u")
        local m, err = it()
        ngx.say(tostring(m), " ", err)
        ngx.say(tostring(it()))
    }
}
--- request
GET /t
--- response_body_like
^nil pcre_exec\(\) failed: -\d+
nil
$
--- no_error_log
[error]



=== TEST 7: an iterator survives yields of its request
--- config
location = /t {
    content_by_lua_block {
        local it = ngx.re.gmatch("x1y2z3", "[0-9]", "jo")
        local out = {}
        while true do
            ngx.sleep(0.001)
            local m = it()
            if not m then break end
            out[#out + 1] = m[0]
        end
        ngx.say(table.concat(out, " "))
    }
}
--- request
GET /t
--- response_body
1 2 3
--- no_error_log
[error]



=== TEST 8: the subject goes through tostring
--- config
location = /t {
    content_by_lua_block {
        local out = {}
        for m in ngx.re.gmatch(102030, "[1-9]0") do out[#out + 1] = m[0] end
        for m in ngx.re.gmatch(nil, "l") do out[#out + 1] = m[0] end
        ngx.say(table.concat(out, ","))
    }
}
--- request
GET /t
--- response_body
10,20,30,l
--- no_error_log
[error]
