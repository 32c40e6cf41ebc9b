# ngx.req.get_uri_args

=== TEST 1: simple arguments
--- config
location = /t {
    content_by_lua_block {
        local args = ngx.req.get_uri_args()
        ngx.say("a: ", args.a)
        ngx.say("b: ", args.b)
        ngx.say("c: ", args.c)
    }
}
--- request
GET /t?a=1&b=hello
--- response_body
a: 1
b: hello
c: nil
--- no_error_log
[error]



=== TEST 2: repeated arguments give a table
--- config
location = /t {
    content_by_lua_block {
        local v = ngx.req.get_uri_args().x
        ngx.say(type(v), " ", table.concat(v, ","))
    }
}
--- request
GET /t?x=1&x=2&x=3
--- response_body
table 1,2,3
--- no_error_log
[error]



=== TEST 3: an argument without = is true, with an empty value is ""
--- config
location = /t {
    content_by_lua_block {
        local args = ngx.req.get_uri_args()
        ngx.say(type(args.flag), " ", args.flag)
        ngx.say(type(args.empty), " [", args.empty, "]")
    }
}
--- request
GET /t?flag&empty=
--- response_body
boolean true
string []
--- no_error_log
[error]



=== TEST 4: keys and values are unescaped, + is a space
--- config
location = /t {
    content_by_lua_block {
        local args = ngx.req.get_uri_args()
        ngx.say(args["a b"])
        ngx.say(args["c=d"])
    }
}
--- request
GET /t?a%20b=x+y%2Bz&c%3Dd=%E4%BD%A0
--- response_body
x y+z
你
--- no_error_log
[error]



=== TEST 5: empty parts are skipped
--- config
location = /t {
    content_by_lua_block {
        local args = ngx.req.get_uri_args()
        local keys = {}
        for k, v in pairs(args) do keys[#keys + 1] = k .. "=" .. tostring(v) end
        table.sort(keys)
        ngx.say(#keys, ": ", table.concat(keys, " "))
    }
}
--- request
GET /t?&&a=1&&b=2&
--- response_body
2: a=1 b=2
--- no_error_log
[error]



=== TEST 6: an empty key is ignored
--- config
location = /t {
    content_by_lua_block {
        local n = 0
        for k, v in pairs(ngx.req.get_uri_args()) do n = n + 1 end
        ngx.say(n)
    }
}
--- request
GET /t?=x&a=1
--- response_body
1
--- no_error_log
[error]



=== TEST 7: no query string gives an empty table
--- config
location = /t {
    content_by_lua_block {
        local args = ngx.req.get_uri_args()
        ngx.say(type(args), " ", next(args))
    }
}
--- request
GET /t
--- response_body
table nil
--- no_error_log
[error]



=== TEST 8: max_args truncates and says so
--- config
location = /t {
    content_by_lua_block {
        local args, err = ngx.req.get_uri_args(2)
        local keys = {}
        for k in pairs(args) do keys[#keys + 1] = k end
        table.sort(keys)
        ngx.say(table.concat(keys, ","), " ", err)
    }
}
--- request
GET /t?a=1&b=2&c=3
--- response_body
a,b truncated
--- no_error_log
[error]



=== TEST 9: the default limit is 100 arguments
--- config
location = /t {
    content_by_lua_block {
        local args, err = ngx.req.get_uri_args()
        local n = 0
        for _ in pairs(args) do n = n + 1 end
        ngx.say(n, " ", err)
    }
}
--- request
GET /t?a1=1&a2=1&a3=1&a4=1&a5=1&a6=1&a7=1&a8=1&a9=1&a10=1&a11=1&a12=1&a13=1&a14=1&a15=1&a16=1&a17=1&a18=1&a19=1&a20=1&a21=1&a22=1&a23=1&a24=1&a25=1&a26=1&a27=1&a28=1&a29=1&a30=1&a31=1&a32=1&a33=1&a34=1&a35=1&a36=1&a37=1&a38=1&a39=1&a40=1&a41=1&a42=1&a43=1&a44=1&a45=1&a46=1&a47=1&a48=1&a49=1&a50=1&a51=1&a52=1&a53=1&a54=1&a55=1&a56=1&a57=1&a58=1&a59=1&a60=1&a61=1&a62=1&a63=1&a64=1&a65=1&a66=1&a67=1&a68=1&a69=1&a70=1&a71=1&a72=1&a73=1&a74=1&a75=1&a76=1&a77=1&a78=1&a79=1&a80=1&a81=1&a82=1&a83=1&a84=1&a85=1&a86=1&a87=1&a88=1&a89=1&a90=1&a91=1&a92=1&a93=1&a94=1&a95=1&a96=1&a97=1&a98=1&a99=1&a100=1&a101=1&a102=1
--- response_body
100 truncated
--- no_error_log
[error]



=== TEST 10: max_args 0 means unlimited
--- config
location = /t {
    content_by_lua_block {
        local args, err = ngx.req.get_uri_args(0)
        local n = 0
        for _ in pairs(args) do n = n + 1 end
        ngx.say(n, " ", err)
    }
}
--- request
GET /t?a1=1&a2=1&a3=1&a4=1&a5=1&a6=1&a7=1&a8=1&a9=1&a10=1&a11=1&a12=1&a13=1&a14=1&a15=1&a16=1&a17=1&a18=1&a19=1&a20=1&a21=1&a22=1&a23=1&a24=1&a25=1&a26=1&a27=1&a28=1&a29=1&a30=1&a31=1&a32=1&a33=1&a34=1&a35=1&a36=1&a37=1&a38=1&a39=1&a40=1&a41=1&a42=1&a43=1&a44=1&a45=1&a46=1&a47=1&a48=1&a49=1&a50=1&a51=1&a52=1&a53=1&a54=1&a55=1&a56=1&a57=1&a58=1&a59=1&a60=1&a61=1&a62=1&a63=1&a64=1&a65=1&a66=1&a67=1&a68=1&a69=1&a70=1&a71=1&a72=1&a73=1&a74=1&a75=1&a76=1&a77=1&a78=1&a79=1&a80=1&a81=1&a82=1&a83=1&a84=1&a85=1&a86=1&a87=1&a88=1&a89=1&a90=1&a91=1&a92=1&a93=1&a94=1&a95=1&a96=1&a97=1&a98=1&a99=1&a100=1&a101=1&a102=1
--- response_body
102 nil
--- no_error_log
[error]



=== TEST 11: a mix of flag and value for one key
--- config
location = /t {
    content_by_lua_block {
        local v = ngx.req.get_uri_args().k
        ngx.say(type(v), " ", tostring(v[1]), " ", tostring(v[2]))
    }
}
--- request
GET /t?k&k=v
--- response_body
table true v
--- no_error_log
[error]



=== TEST 12: bad percent escapes are kept
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.req.get_uri_args().a)
    }
}
--- request
GET /t?a=%zz%4
--- response_body
%zz%4
--- no_error_log
[error]



=== TEST 13: ngx.var.args and arg_ variables agree
--- config
location = /t {
    content_by_lua_block {
        ngx.say(ngx.var.args)
        ngx.say(ngx.var.arg_a, " ", ngx.var.arg_b)
    }
}
--- request
GET /t?a=1%202&b=x
--- response_body
a=1%202&b=x
1%202 x
--- no_error_log
[error]
