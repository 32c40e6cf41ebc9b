# ngx.re.gsub: every match, the count, empty matches, templates and
# replacement functions over many matches.

=== TEST 1: every match is replaced and counted
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.gsub("a1b22c333", [[\d+]], "#"))
        ngx.say(ngx.re.gsub("a1b22c333", [[(\d)(\d*)]], "<$2$1>"))
        ngx.say(ngx.re.gsub("nothing", [[\d]], "#"))
        ngx.say(ngx.re.gsub("aaa", "a", "$0$0"))
    }
}
--- request
GET /t
--- response_body
a#b#c#3
a<1>b<22>c<333>3
nothing0
aaaaaa3
--- no_error_log
[error]



=== TEST 2: empty matches insert between every byte
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.gsub("hello", "", "-"))
        ngx.say(ngx.re.gsub("aab", "a*", "-"))
        ngx.say(ngx.re.gsub("ab", "x*", "[$0]"))
        ngx.say(ngx.re.gsub("", "x*", "E"))
        ngx.say(ngx.re.gsub("a.b.c", [[\b]], "|"))
    }
}
--- request
GET /t
--- response_body
-h-e-l-l-o-6
--b-3
[]a[]b[]3
E1
|a|.|b|.|c|6
--- no_error_log
[error]



=== TEST 3: a replacement function is called once per match
--- config
location = /t {
    content_by_lua_block {
        local calls = 0
        local s, n = ngx.re.gsub("The Quick Brown", [[(?<w>\w)(\w*)]], function(m)
            calls = calls + 1
            return m[2] .. m.w .. "ay"
        end)
        ngx.say(s, " ", n, " ", calls)
        ngx.say(ngx.re.gsub("ab", "", function(m) return "." end))
        local ok, err = pcall(ngx.re.gsub, "abc", "[a-c]", function(m)
            if m[0] == "b" then error("stop at b", 0) end
            return m[0]
        end)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body
heTay uickQay rownBay 3 3
.a.b.3
false stop at b
--- no_error_log
[error]



=== TEST 4: a long subject with many matches
--- config
location = /t {
    content_by_lua_block {
        local subj = string.rep("ab,", 20000)
        local s, n = ngx.re.gsub(subj, ",", ";", "jo")
        ngx.say(#s, " ", n, " ", s:sub(1, 9))
        s, n = ngx.re.gsub(subj, "(a)(b)", "$2$1")
        ngx.say(#s, " ", n, " ", s:sub(1, 9))
    }
}
--- request
GET /t
--- response_body
60000 20000 ab;ab;ab;
60000 20000 ba,ba,ba,
--- no_error_log
[error]



=== TEST 5: options: i, u, x, o with changing templates
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.gsub("aAaA", "a", "x", "i"))
        ngx.say(ngx.re.gsub("日本語", "[本語]", "・", "u"))
        ngx.say(ngx.re.gsub("a b c", [[ \s ]], "", "x"))
        for i = 1, 3 do
            ngx.say(ngx.re.gsub("x-y", "-", "<" .. i .. ">", "o"))
        end
    }
}
--- request
GET /t
--- response_body
xxxx4
日・・2
abc2
x<1>y1
x<2>y1
x<3>y1
--- no_error_log
[error]



=== TEST 6: errors: bad pattern, bad template, match errors
--- config
location = /t {
    content_by_lua_block {
        local s, n, err = ngx.re.gsub("abc", "[b", "x")
        ngx.say(tostring(s), " ", tostring(n), " ", err)
        s, n, err = ngx.re.gsub("abc", "b", "${x")
        ngx.say(tostring(s), " ", tostring(n), " ", err)
        s, n, err = ngx.re.gsub(string.sub("你好", 1, 4), "x", "y", "u")
        ngx.say(tostring(s), " ", tostring(n), " ", err)
    }
}
--- request
GET /t
--- response_body_like
^nil nil pcre2?_compile\(\) failed: missing terminating \] for character class in "\[b"
nil nil failed to compile the replacement template
nil nil pcre_exec\(\) failed: -\d+
$
--- error_log
the closing bracket in "x" variable is missing
