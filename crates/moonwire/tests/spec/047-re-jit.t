# The j option (PCRE JIT) and the JIT stack: ngx.re.opt("jit_stack_size").

=== TEST 1: j gives the same results as the interpreter
--- config
location = /t {
    content_by_lua_block {
        for _, opts in ipairs({ "", "j", "jo", "ji", "jd" }) do
            local m = ngx.re.match("Quick Brown Fox", [[(?<first>\w+) (\w+)]], opts)
            local f, t = ngx.re.find("Quick Brown Fox", "o", opts)
            local s, n = ngx.re.gsub("Quick Brown Fox", "[aeiou]", "_", opts)
            ngx.say(opts, ": ", m[0], " ", tostring(m.first), " ", f, ",", t, " ", s, " ", n)
        end
    }
}
--- request
GET /t
--- response_body
: Quick Brown Quick 9,9 Q__ck Br_wn F_x 4
j: Quick Brown Quick 9,9 Q__ck Br_wn F_x 4
jo: Quick Brown Quick 9,9 Q__ck Br_wn F_x 4
ji: Quick Brown Quick 9,9 Q__ck Br_wn F_x 4
jd: Quick Brown nil 9,9 Q__ck Br_wn F_x 4
--- no_error_log
[error]



=== TEST 2: deep backtracking exhausts the default JIT stack
--- config
location = /t {
    content_by_lua_block {
        local subj = string.rep("a", 100000)
        local m, err = ngx.re.match(subj, "^(?:a|b)*[^a]", "j")
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



=== TEST 3: a larger JIT stack set before anything is cached
--- config
location = /t {
    content_by_lua_block {
        local ngx_re = require "ngx.re"
        ngx_re.opt("jit_stack_size", 64 * 1024 * 1024)
        local subj = string.rep("a", 100000)
        local m, err = ngx.re.match(subj, "^(?:a|b)*[^a]", "j")
        ngx.say(tostring(m), " ", tostring(err))
        m, err = ngx.re.match(subj .. "b", "^(?:a|b)*[^a]", "j")
        ngx.say(#m[0], " ", tostring(err))
    }
}
--- request
GET /t
--- response_body
nil nil
100001 nil
--- no_error_log
[error]



=== TEST 4: opt refuses a change once regexes are cached, and unknown names
--- config
location = /t {
    content_by_lua_block {
        local ngx_re = require "ngx.re"
        ngx.re.match("abc", "b", "jo")
        local ok, err = pcall(ngx_re.opt, "jit_stack_size", 128 * 1024)
        ngx.say(ok, " ", err)
        ok, err = pcall(ngx_re.opt, "stack", 1)
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body
false changing jit stack size is not allowed when some regexs have already been compiled and cached
false unrecognized option name
--- no_error_log
[error]
