# ngx.say / ngx.print: how strings, numbers, booleans, nil, ngx.null and
# (nested) array tables are rendered, and what they return.

=== TEST 1: say a string
--- config
location = /t {
    content_by_lua_block {
        ngx.say("hello, world")
    }
}
--- request
GET /t
--- response_body
hello, world
--- response_headers
Content-Type: text/plain
--- no_error_log
[error]



=== TEST 2: print does not add a newline
--- config
location = /t {
    content_by_lua_block {
        ngx.print("hello")
        ngx.print(", ", "world")
    }
}
--- request
GET /t
--- response_body chomp
hello, world
--- no_error_log
[error]



=== TEST 3: say with several arguments and no arguments
--- config
location = /t {
    content_by_lua_block {
        ngx.say("a", "b", "c")
        ngx.say()
        ngx.say("")
        ngx.print()
        ngx.say("end")
    }
}
--- request
GET /t
--- response_body
abc


end
--- no_error_log
[error]



=== TEST 4: integers
--- config
location = /t {
    content_by_lua_block {
        ngx.say(3)
        ngx.say(0)
        ngx.say(-7)
        ngx.say(1024 * 1024)
        ngx.say(99999999999999)
    }
}
--- request
GET /t
--- response_body
3
0
-7
1048576
99999999999999
--- no_error_log
[error]



=== TEST 5: floats use %.14g
--- config
location = /t {
    content_by_lua_block {
        ngx.say(3.14)
        ngx.say(-0.5)
        ngx.say(0.1 + 0.2)
        ngx.say(1 / 3)
        ngx.say(1e100)
        ngx.say(2.5e-7)
    }
}
--- request
GET /t
--- response_body
3.14
-0.5
0.3
0.33333333333333
1e+100
2.5e-07
--- no_error_log
[error]



=== TEST 6: large integral numbers switch to exponent form at 15 digits
--- config
location = /t {
    content_by_lua_block {
        ngx.say(1e15)
        ngx.say(100000000000000)
        ngx.say(2^53)
        ngx.say(-1e15)
    }
}
--- request
GET /t
--- response_body
1e+15
1e+14
9.007199254741e+15
-1e+15
--- no_error_log
[error]



=== TEST 7: infinities
--- config
location = /t {
    content_by_lua_block {
        ngx.say(1 / 0, " ", -1 / 0)
    }
}
--- request
GET /t
--- response_body
inf -inf
--- no_error_log
[error]



=== TEST 8: nil, booleans and ngx.null
--- config
location = /t {
    content_by_lua_block {
        ngx.say(nil)
        ngx.say(true)
        ngx.say(false)
        ngx.say(ngx.null)
        ngx.say(nil, true, false, ngx.null)
    }
}
--- request
GET /t
--- response_body
nil
true
false
null
niltruefalsenull
--- no_error_log
[error]



=== TEST 9: array tables are flattened
--- config
location = /t {
    content_by_lua_block {
        ngx.say({"hello", ", ", "world"})
        ngx.say({})
        ngx.print({"a", 1, 2.5}, {"b"})
        ngx.say()
    }
}
--- request
GET /t
--- response_body
hello, world

a12.5b
--- no_error_log
[error]



=== TEST 10: nested array tables
--- config
location = /t {
    content_by_lua_block {
        ngx.say({"a", {"b", {"c", {}, {"d"}}, "e"}, "f"})
    }
}
--- request
GET /t
--- response_body
abcdef
--- no_error_log
[error]



=== TEST 11: booleans, nil holes and ngx.null inside array tables
--- config
location = /t {
    content_by_lua_block {
        ngx.say({1, true, false, ngx.null})
        ngx.say({1, nil, 3})
    }
}
--- request
GET /t
--- response_body
1truefalsenull
1nil3
--- no_error_log
[error]



=== TEST 12: a hash table is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.say({a = 1})
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
bad argument #1 to 'say' (non-array table found)
lua entry thread aborted: runtime error:



=== TEST 13: a table mixing array and hash parts is an error
--- config
location = /t {
    content_by_lua_block {
        ngx.print("x", {1, 2, k = "v"})
    }
}
--- request
GET /t
--- error_code: 500
--- error_log
bad argument #2 to 'print' (non-array table found)



=== TEST 14: a function inside a table is an error, catchable with pcall
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.say, {"a", print})
        ngx.say(ok)
        ngx.say(type(err))
        ngx.say(err)
    }
}
--- request
GET /t
--- response_body_like
^false
string
bad argument #1 to '[^']+' \(bad data type function found\)
$
--- no_error_log
[error]



=== TEST 15: a bad argument type is catchable with pcall
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.say, "a", function() end)
        ngx.say(ok, " ", type(err))
        ngx.say(err)
    }
}
--- request
GET /t
--- response_body_like
^false string
bad argument #2 to '[^']+' \(string, number, boolean, nil, ngx\.null, or array table expected, but got function\)
$
--- no_error_log
[error]



=== TEST 16: say and print return 1
--- config
location = /t {
    content_by_lua_block {
        local ok, err = ngx.say("hi")
        ngx.say(ok, " ", err)
        ok, err = ngx.print("")
        ngx.say(ok, " ", err)
    }
}
--- request
GET /t
--- response_body
hi
1 nil
1 nil
--- no_error_log
[error]



=== TEST 17: binary data and embedded zeros pass through
--- config
location = /t {
    content_by_lua_block {
        ngx.print("a\0b\255\n")
        ngx.say(#"a\0b")
    }
}
--- request
GET /t
--- response_body_like
^a\x00b\xff\n3\n$
--- no_error_log
[error]
