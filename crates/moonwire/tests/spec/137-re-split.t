# require "ngx.re": split(subj, regex, opts, ctx, max, res) and opt().

=== TEST 1: pieces between the matches; empty pieces at the end are dropped
--- config
location = /t {
    content_by_lua_block {
        local ngx_re = require "ngx.re"
        local function show(res, err)
            if not res then
                ngx.say("error: ", err)
                return
            end
            local out = {}
            for i = 1, #res do out[i] = "[" .. res[i] .. "]" end
            ngx.say(#res, " ", table.concat(out))
        end
        show(ngx_re.split("a,b,c", ","))
        show(ngx_re.split(",a,,b,,", ","))
        show(ngx_re.split("abc", ","))
        show(ngx_re.split("key1 = v1; key2=v2", [[\s*[=;]\s*]]))
        show(ngx_re.split("a1b22c", [[\d+]], "jo"))
        show(ngx_re.split("", ","))
        show(ngx_re.split(1203405, "0"))
    }
}
--- request
GET /t
--- response_body
3 [a][b][c]
4 [][a][][b]
1 [abc]
4 [key1][v1][key2][v2]
3 [a][b][c]
0 
3 [12][34][5]
--- no_error_log
[error]



=== TEST 2: group 1 of each match is kept between the pieces
--- config
location = /t {
    content_by_lua_block {
        local ngx_re = require "ngx.re"
        local res = ngx_re.split("a;b,c", "([;,])")
        ngx.say(table.concat(res, "|"))
        res = ngx_re.split("a;b,c", "(;)|,")
        ngx.say(table.concat(res, "|"))
        res = ngx_re.split("a--b", "(-)(-)")
        ngx.say(table.concat(res, "|"))
    }
}
--- request
GET /t
--- response_body
a|;|b|,|c
a|;|b|c
a|-|b
--- no_error_log
[error]



=== TEST 3: max limits the number of pieces
--- config
location = /t {
    content_by_lua_block {
        local ngx_re = require "ngx.re"
        for _, max in ipairs({ 1, 2, 3, 10, 0, -1 }) do
            local res = ngx_re.split("a,b,c,,", ",", nil, nil, max)
            ngx.say(max, ": ", #res, " ", table.concat(res, "|"))
        end
        ngx.say(table.concat(ngx_re.split("a,b,c", "(,)", nil, nil, 2), "|"))
    }
}
--- request
GET /t
--- response_body
1: 1 a,b,c,,
2: 2 a|b,c,,
3: 3 a|b|c,,
10: 5 a|b|c||
0: 3 a|b|c
-1: 3 a|b|c
a|,|b,c
--- no_error_log
[error]



=== TEST 4: an empty pattern splits into characters
--- config
location = /t {
    content_by_lua_block {
        local ngx_re = require "ngx.re"
        ngx.say(table.concat(ngx_re.split("12345", ""), "|"))
        ngx.say(table.concat(ngx_re.split("12345", "", "jo", nil, 3), "|"))
        ngx.say(table.concat(ngx_re.split("12345", "", nil, { pos = 3 }), "|"))
    }
}
--- request
GET /t
--- response_body
1|2|3|4|5
1|2|345
3|4|5
--- no_error_log
[error]



=== TEST 5: ctx.pos is where splitting starts
--- config
location = /t {
    content_by_lua_block {
        local ngx_re = require "ngx.re"
        ngx.say(table.concat(ngx_re.split("a,b,c,d", ",", nil, { pos = 3 }), "|"))
        ngx.say(table.concat(ngx_re.split("a,b,c,d", ",", nil, { pos = 4 }), "|"))
        local res = ngx_re.split("a,b", ",", nil, { pos = 10 })
        ngx.say(type(res), " ", #res)
        ngx.say(table.concat(ngx_re.split("a,b", ",", nil, {}), "|"))
    }
}
--- request
GET /t
--- response_body
b|c|d
|c|d
table 0
a|b
--- no_error_log
[error]



=== TEST 6: a res table is filled from 1 and ends with a nil
--- config
location = /t {
    content_by_lua_block {
        local ngx_re = require "ngx.re"
        local res = { "x", "x", "x", "x", "x", "x" }
        local r = ngx_re.split("a,b,c", ",", nil, nil, nil, res)
        ngx.say(r == res, " ", #res, " ", table.concat(res, "|"), " ", tostring(res[4]), " ", res[5])
        local ok, err = pcall(ngx_re.split, "a,b", ",", nil, nil, nil, "not a table")
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body
true 3 a|b|c nil x
false res is not a table
--- no_error_log
[error]



=== TEST 7: errors
--- config
location = /t {
    content_by_lua_block {
        local ngx_re = require "ngx.re"
        local res, err = ngx_re.split("a,b", "(,")
        ngx.say(tostring(res), " ", err)
        res, err = ngx_re.split(string.sub("你好", 1, 4), ",", "u")
        ngx.say(tostring(res), " ", err)
        local ok, e = pcall(ngx_re.split, "a,b", ",", "g")
        ngx.say(ok, " ", e)
    }
}
--- request
GET /t
--- response_body_like
^nil pcre2?_compile\(\) failed: missing (\)|closing parenthesis) in "\(,"
nil pcre_exec\(\) failed: -\d+
false \S+:\d+: unknown flag "g" \(flags "g"\)
$
--- no_error_log
[error]



=== TEST 8: patterns that match both empty and non-empty text
--- moonwire_only
--- config
location = /t {
    content_by_lua_block {
        local ngx_re = require "ngx.re"
        ngx.say(table.concat(ngx_re.split("a,,b", ",*"), "|"))
        ngx.say(table.concat(ngx_re.split("a  b c", " *"), "|"))
        ngx.say(table.concat(ngx_re.split("a1b", "([a-z])|(1)"), "|"))
    }
}
--- request
GET /t
--- response_body
a|b
a|b|c
|a|||b
--- no_error_log
[error]
