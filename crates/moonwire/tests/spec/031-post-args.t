# ngx.req.get_post_args

=== TEST 1: form arguments
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        local args = ngx.req.get_post_args()
        ngx.say("a: ", args.a)
        ngx.say("b: ", table.concat(args.b, ","))
        ngx.say("flag: ", args.flag)
        ngx.say("space: [", args.space, "]")
    }
}
--- request
POST /t
a=1&b=x&b=y&flag&space=hello+world%21
--- response_body
a: 1
b: x,y
flag: true
space: [hello world!]
--- no_error_log
[error]



=== TEST 2: max_args and "truncated"
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        local args, err = ngx.req.get_post_args(2)
        local keys = {}
        for k in pairs(args) do
            keys[#keys + 1] = k
        end
        table.sort(keys)
        ngx.say(table.concat(keys, ","), " ", err)
        args, err = ngx.req.get_post_args(0)
        local n = 0
        for _ in pairs(args) do
            n = n + 1
        end
        ngx.say(n, " ", err)
    }
}
--- request
POST /t
a=1&b=2&c=3&d=4
--- response_body
a,b truncated
4 nil
--- no_error_log
[error]



=== TEST 3: before the body was read
--- config
location = /t {
    content_by_lua_block {
        local ok, err = pcall(ngx.req.get_post_args)
        ngx.say(ok, " ", (string.gsub(err, "^.-:%d+: ", "")))
    }
}
--- request
POST /t
a=1
--- response_body
false no request body found; maybe you should turn on lua_need_request_body?
--- no_error_log
[error]



=== TEST 4: with lua_need_request_body
--- config
location = /t {
    lua_need_request_body on;
    content_by_lua_block {
        ngx.say(ngx.req.get_post_args().key)
    }
}
--- request
POST /t
key=value
--- response_body
value
--- no_error_log
[error]



=== TEST 5: get_body_data(max_bytes)
--- moonwire_only
lua-nginx-module 0.10.23 takes no argument here (max_bytes came in 0.10.26).
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say(ngx.req.get_body_data(5))
        ngx.say(ngx.req.get_body_data(100))
        ngx.say(ngx.req.get_body_data())
    }
}
--- request
POST /t
hello, world
--- response_body
hello
hello, world
hello, world
--- no_error_log
[error]



=== TEST 6: empty keys are skipped; max counts separators
--- config
location = /t {
    content_by_lua_block {
        ngx.req.read_body()
        local args, err = ngx.req.get_post_args()
        local keys = {}
        for k, v in pairs(args) do
            keys[#keys + 1] = k .. "=" .. tostring(v)
        end
        table.sort(keys)
        ngx.say(table.concat(keys, " "), " ", err)
        args, err = ngx.req.get_post_args(3)
        ngx.say(args.a, " ", args.b, " ", err)
    }
}
--- request
POST /t
=x&&a=%41&b
--- response_body
a=A b=true nil
A nil truncated
--- no_error_log
[error]
