# ngx.log and print: levels, the "[lua] SOURCE:LINE: " prefix, filtering.

=== TEST 1: ngx.log at error level
--- config
location = /t {
    content_by_lua_block {
        ngx.log(ngx.ERR, "hello", " ", "world")
        ngx.say("done")
    }
}
--- request
GET /t
--- response_body
done
--- error_log
[error]
[lua] content_by_lua(nginx.conf:26):2: hello world



=== TEST 2: each level writes its own tag
--- config
location = /t {
    content_by_lua_block {
        ngx.log(ngx.EMERG, "m-emerg")
        ngx.log(ngx.ALERT, "m-alert")
        ngx.log(ngx.CRIT, "m-crit")
        ngx.log(ngx.ERR, "m-err")
        ngx.log(ngx.WARN, "m-warn")
        ngx.log(ngx.NOTICE, "m-notice")
        ngx.log(ngx.INFO, "m-info")
        ngx.log(ngx.DEBUG, "m-debug")
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_body
ok
--- error_log
[emerg] 
[alert] 
[crit] 
[warn] 
[notice] 
[info] 
[debug] 
:2: m-emerg
:3: m-alert
:4: m-crit
:5: m-err
:6: m-warn
:7: m-notice
:8: m-info
:9: m-debug



=== TEST 3: the level constants
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.STDERR, ngx.EMERG, ngx.ALERT, ngx.CRIT, ngx.ERR,
                ngx.WARN, ngx.NOTICE, ngx.INFO, ngx.DEBUG)
    }
}
--- request
GET /t
--- response_body
012345678
--- no_error_log
[error]



=== TEST 4: the log line ends with client, server, request and host
--- config
location = /t {
    content_by_lua_block {
        ngx.log(ngx.WARN, "ctx check")
    }
}
--- request
GET /t?a=1
--- more_headers
Host: example.com
--- response_body
--- error_log
[lua] content_by_lua(nginx.conf:26):2: ctx check, client: 127.0.0.1, server: localhost, request: "GET /t?a=1 HTTP/1.1", host: "example.com"



=== TEST 5: print logs at notice level
--- config
location = /t {
    content_by_lua_block {
        print("hello from print")
        print("a", 1, nil, true)
    }
}
--- request
GET /t
--- response_body
--- error_log
[notice]
[lua] content_by_lua(nginx.conf:26):2: hello from print
[lua] content_by_lua(nginx.conf:26):3: a1niltrue



=== TEST 6: levels below the error_log level are filtered out
--- log_level: warn
--- config
location = /t {
    content_by_lua_block {
        ngx.log(ngx.ERR, "shown-err")
        ngx.log(ngx.WARN, "shown-warn")
        ngx.log(ngx.NOTICE, "hidden-notice")
        ngx.log(ngx.INFO, "hidden-info")
        ngx.log(ngx.DEBUG, "hidden-debug")
        print("hidden-print")
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_body
ok
--- error_log
shown-err
shown-warn
--- no_error_log
hidden-notice
hidden-info
hidden-debug
hidden-print



=== TEST 7: error level only
--- log_level: error
--- config
location = /t {
    content_by_lua_block {
        ngx.log(ngx.CRIT, "shown-crit")
        ngx.log(ngx.ERR, "shown-err")
        ngx.log(ngx.WARN, "hidden-warn")
        ngx.say("ok")
    }
}
--- request
GET /t
--- response_body
ok
--- error_log
shown-crit
shown-err
--- no_error_log
hidden-warn
[warn]



=== TEST 8: nil, booleans, numbers and ngx.null arguments
--- config
location = /t {
    content_by_lua_block {
        ngx.log(ngx.ERR, "v: ", nil, " ", true, " ", false, " ", 3.5, " ", 42, " ", ngx.null)
    }
}
--- request
GET /t
--- response_body
--- error_log
v: nil true false 3.5 42 null



=== TEST 9: tables with __tostring are logged through it
--- config
location = /t {
    content_by_lua_block {
        local t = setmetatable({}, { __tostring = function() return "my table" end })
        ngx.log(ngx.ERR, "t: ", t)
    }
}
--- request
GET /t
--- response_body
--- error_log
t: my table



=== TEST 10: a plain table argument is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.log(ngx.ERR, "t: ", {})
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
content_by_lua(nginx.conf:26):2: bad argument #2 to 'log' (expected table to have __tostring metamethod)



=== TEST 11: a bad level is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.log(100, "x")
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
bad log level: 100



=== TEST 12: log inside a named function shows the function name
--- config
location = /t {
    content_by_lua_block {
        local function foo()
            ngx.log(ngx.ERR, "from foo")
        end
        foo()
    }
}
--- request
GET /t
--- response_body
--- error_log
[lua] content_by_lua(nginx.conf:26):3: foo(): from foo



=== TEST 13: log from a file shows the file name
--- user_files
>>> logger.lua
ngx.log(ngx.ERR, "from a file")
--- config
location = /t {
    content_by_lua_file html/logger.lua;
}
--- request
GET /t
--- response_body
--- error_log
[lua] logger.lua:1: from a file



=== TEST 14: a message with newlines and a long message
--- config
location = /t {
    content_by_lua_block {
        ngx.log(ngx.ERR, "line1\nline2")
        ngx.log(ngx.ERR, "long:", string.rep("a", 1000), ":end")
    }
}
--- request
GET /t
--- response_body
--- error_log
line1
line2
:end



=== TEST 15: ngx.log with no message argument is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.log()
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
bad argument #1 to 'log' (number expected, got no value)



=== TEST 16: ngx.log returns nothing
--- config
location = /t {
    content_by_lua_block {
        ngx.say(select("#", ngx.log(ngx.ERR, "x")))
    }
}
--- request
GET /t
--- response_body
0
