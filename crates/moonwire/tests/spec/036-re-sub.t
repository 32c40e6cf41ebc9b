# ngx.re.sub: the first match only; replacement templates ($0, $N, ${N},
# $$), template errors, replacement functions, errors.

=== TEST 1: the first match is replaced; no match returns the subject and 0
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.sub("a1b2c3", "[0-9]", "#"))
        local s, n, err = ngx.re.sub("abc", "[0-9]", "#")
        ngx.say(s, " ", n, " ", tostring(err))
        ngx.say(ngx.re.sub("abc", "^", ">"))
        ngx.say(ngx.re.sub("abc", "$", "<"))
        ngx.say(ngx.re.sub("", "^$", "empty"))
    }
}
--- request
GET /t
--- response_body
a#b2c31
abc 0 nil
>abc1
abc<1
empty1
--- no_error_log
[error]



=== TEST 2: template references
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.sub("hello, world", [[(\w+), (\w+)]], "$2, $1 ($0)"))
        ngx.say(ngx.re.sub("hello", "(l)(l)", "[${2}0|$10|$$|$$1]"))
        ngx.say(ngx.re.sub("ab", "(a)(x)?", "<$1$2$3>"))
        ngx.say(ngx.re.sub("price: 5", [[\d]], "$$$0.00"))
        ngx.say(ngx.re.sub("abc", "b", "${0}${0}"))
    }
}
--- request
GET /t
--- response_body
world, hello (hello, world)1
he[l0||$|$1]o1
<a>b1
price: $5.001
abbc1
--- no_error_log
[error]



=== TEST 3: a bad template: nil, nil, the message, and the reason in the log
--- config
location = /t {
    content_by_lua_block {
        for _, tpl in ipairs({ "cost: $", "${1", "${1x}", "$name", "${name}", "${}" }) do
            local s, n, err = ngx.re.sub("abc", "b", tpl)
            ngx.say(tostring(s), " ", tostring(n), " ", err)
        end
        -- checked even when nothing matches
        ngx.say(select(3, ngx.re.sub("abc", "zzz", "$")))
    }
}
--- request
GET /t
--- response_body
nil nil failed to compile the replacement template
nil nil failed to compile the replacement template
nil nil failed to compile the replacement template
nil nil failed to compile the replacement template
nil nil failed to compile the replacement template
nil nil failed to compile the replacement template
failed to compile the replacement template
--- error_log
lua script: invalid capturing variable name found in "cost: $"
the closing bracket in "1" variable is missing
attempt to use named capturing variable "name" (named captures not supported yet)
lua script: invalid capturing variable name found in "${}"



=== TEST 4: a replacement function gets the captures; its result goes through tostring
--- config
location = /t {
    content_by_lua_block {
        local s, n = ngx.re.sub("key=val", [[(?<k>\w+)=(\w+)]], function(m)
            return m.k:upper() .. ":" .. m[2] .. ":" .. m[0]
        end)
        ngx.say(s, " ", n)
        ngx.say(ngx.re.sub("a-b", "-", function() return 42 end))
        ngx.say(ngx.re.sub("a-b", "-", function() return nil end))
        ngx.say(ngx.re.sub("a-b", "x", function() error("never called") end))
    }
}
--- request
GET /t
--- response_body
KEY:val:key=val 1
a42b1
anilb1
a-b0
--- no_error_log
[error]



=== TEST 5: a replacement function may yield and may raise
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.sub("wait-here", "-", function(m)
            ngx.sleep(0.001)
            return "+"
        end))
        local ok, err = pcall(ngx.re.sub, "abc", "b", function() error("boom") end)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body_like
^wait\+here1
false \S+:\d+: boom
$
--- no_error_log
[error]



=== TEST 6: a replacement that is neither string nor function is converted
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.sub("a-b", "-", 7))
        ngx.say(ngx.re.sub("a-b", "-", true))
        ngx.say(ngx.re.sub(123, "2", "x"))
    }
}
--- request
GET /t
--- response_body
a7b1
atrueb1
1x31
--- no_error_log
[error]



=== TEST 7: options and errors
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.re.sub("Hello", "h", "J", "i"))
        ngx.say(ngx.re.sub("Hello", "l+", "L", "jo"))
        ngx.say(ngx.re.sub("abcd", "b|bcd", "_", "d"))
        ngx.say(ngx.re.sub("你好世界", "好", "[$0]", "u"))
        local s, n, err = ngx.re.sub("abc", "(b", "x")
        ngx.say(tostring(s), " ", tostring(n), " ", err)
        local ok, e = pcall(ngx.re.sub, "abc", "b", "x", "ow")
        ngx.say(ok, " ", e)
    }
}
--- request
GET /t
--- response_body_like
^Jello1
HeLo1
a_1
你\[好\]世界1
nil nil pcre2?_compile\(\) failed: missing (\)|closing parenthesis) in "\(b"
false \S+:\d+: unknown flag "w" \(flags "ow"\)
$
--- no_error_log
[error]
