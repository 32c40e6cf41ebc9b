# nginx core behaviour: location matching, return, static files.

=== TEST 1: exact match beats a prefix match
--- config
location /a { return 200 "prefix\n"; }
location = /a { return 200 "exact\n"; }
--- request
GET /a
--- response_body
exact
--- no_error_log
[error]



=== TEST 2: an exact location does not match longer URIs
--- config
location = /a { return 200 "exact\n"; }
location /a { return 200 "prefix\n"; }
--- request
GET /ab
--- response_body
prefix
--- no_error_log
[error]



=== TEST 3: the longest prefix wins, whatever the order
--- config
location /a/ { return 200 "short\n"; }
location /a/b/c/ { return 200 "longest\n"; }
location /a/b/ { return 200 "middle\n"; }
--- request
GET /a/b/c/d
--- response_body
longest
--- no_error_log
[error]



=== TEST 4: a matching regex beats the longest prefix
--- config
location /img/ { return 200 "prefix\n"; }
location ~ \.png$ { return 200 "regex\n"; }
--- request
GET /img/a.png
--- response_body
regex
--- no_error_log
[error]



=== TEST 5: the prefix is used when no regex matches
--- config
location /img/ { return 200 "prefix\n"; }
location ~ \.png$ { return 200 "regex\n"; }
--- request
GET /img/a.jpg
--- response_body
prefix
--- no_error_log
[error]



=== TEST 6: ^~ stops the regex search
--- config
location ^~ /static/ { return 200 "no-regex prefix\n"; }
location ~ \.css$ { return 200 "regex\n"; }
--- request
GET /static/site.css
--- response_body
no-regex prefix
--- no_error_log
[error]



=== TEST 7: ^~ only matters when it is the longest prefix
--- config
location ^~ /s/ { return 200 "no-regex prefix\n"; }
location /s/deeper/ { return 200 "longer prefix\n"; }
location ~ \.css$ { return 200 "regex\n"; }
--- request
GET /s/deeper/site.css
--- response_body
regex
--- no_error_log
[error]



=== TEST 8: the first matching regex in config order wins
--- config
location ~ /x/ { return 200 "first\n"; }
location ~ /x/y { return 200 "second\n"; }
--- request
GET /x/y/z
--- response_body
first
--- no_error_log
[error]



=== TEST 9: ~ is case-sensitive
--- config
location ~ \.PNG$ { return 200 "upper\n"; }
location / { return 200 "fallback\n"; }
--- request
GET /a.png
--- response_body
fallback
--- no_error_log
[error]



=== TEST 10: ~* is case-insensitive
--- config
location ~* \.PNG$ { return 200 "caseless\n"; }
location / { return 200 "fallback\n"; }
--- request
GET /a.png
--- response_body
caseless
--- no_error_log
[error]



=== TEST 11: nested prefix locations
--- config
location /outer/ {
    location /outer/inner/ { return 200 "inner\n"; }
    return 200 "outer\n";
}
--- request
GET /outer/inner/x
--- response_body
inner
--- no_error_log
[error]



=== TEST 12: a nested regex is checked before top-level regexes
--- config
location /app/ {
    location ~ \.lua$ { return 200 "nested regex\n"; }
    return 200 "app\n";
}
location ~ \.lua$ { return 200 "top regex\n"; }
--- request
GET /app/x.lua
--- response_body
nested regex
--- no_error_log
[error]



=== TEST 13: the parent of a nested location handles what its children do not match
--- config
location /app/ {
    location ~ \.lua$ { return 200 "nested regex\n"; }
    return 200 "app\n";
}
--- request
GET /app/x.txt
--- response_body
app
--- no_error_log
[error]



=== TEST 14: location = / only matches /
--- config
location = / { return 200 "root\n"; }
location / { return 200 "any\n"; }
--- request
GET /?a=1
--- response_body
root
--- no_error_log
[error]



=== TEST 15: the query string plays no part in matching
--- config
location ~ \.php$ { return 200 "php\n"; }
location / { return 200 "any\n"; }
--- request
GET /index.html?x=.php
--- response_body
any
--- no_error_log
[error]



=== TEST 16: matching uses the decoded, normalized URI
--- config
location = /b/c { return 200 "normalized\n"; }
location / { return 200 "any\n"; }
--- request
GET /a/../b/%63
--- response_body
normalized
--- no_error_log
[error]



=== TEST 17: a URI escaping the root is a 400
--- config
location / { return 200 "any\n"; }
--- request
GET /../etc/passwd
--- error_code: 400



=== TEST 18: return with a text body
--- config
location = /t { return 200 "hello"; }
--- request
GET /t
--- response_body chomp
hello
--- response_headers
Content-Type: text/plain
Content-Length: 5
--- no_error_log
[error]



=== TEST 19: return with variables in the text
--- config
location = /t { return 200 "uri=$uri args=$args method=$request_method\n"; }
--- request
GET /t?a=1
--- response_body
uri=/t args=a=1 method=GET
--- no_error_log
[error]



=== TEST 20: return with a code only sends the error page
--- config
location = /t { return 404; }
--- request
GET /t
--- error_code: 404
--- response_headers
Content-Type: text/html
--- response_body_like
<center><h1>404 Not Found</h1></center>
--- no_error_log
[error]



=== TEST 21: return 403
--- config
location = /t { return 403; }
--- request
GET /t
--- error_code: 403
--- response_body_like
<title>403 Forbidden</title>



=== TEST 22: return 301 with a relative URL makes it absolute
--- config
location = /t { return 301 /new; }
--- request
GET /t
--- error_code: 301
--- response_headers
Location: http://localhost:$TEST_NGINX_SERVER_PORT/new
--- response_body_like
<title>301 Moved Permanently</title>
--- no_error_log
[error]



=== TEST 23: return 302 with an absolute URL
--- config
location = /t { return 302 http://example.com/x?y=1; }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: http://example.com/x?y=1
--- no_error_log
[error]



=== TEST 24: return with only a URL is a 302
--- config
location = /t { return http://example.com/; }
--- request
GET /t
--- error_code: 302
--- response_headers
Location: http://example.com/
--- no_error_log
[error]



=== TEST 25: return 444 closes the connection
--- config
location = /t { return 444; }
--- request
GET /t
--- ignore_response
--- no_error_log
[error]



=== TEST 26: return at server level
--- config
return 200 "server level\n";
location /never { return 200 "location\n"; }
--- request
GET /never
--- response_body
server level
--- no_error_log
[error]



=== TEST 27: return 204
--- config
location = /t { return 204; }
--- request
GET /t
--- error_code: 204
--- response_body
--- response_headers
!Content-Type
--- no_error_log
[error]



=== TEST 28: a static file from root
--- user_files
>>> hello.txt
hello, static
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /hello.txt
--- response_body
hello, static
--- response_headers
Content-Length: 14
Accept-Ranges: bytes
--- response_headers_like
Last-Modified: ^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$
ETag: ^"[0-9a-f]+-e"$
--- no_error_log
[error]



=== TEST 29: the default root is PREFIX/html
--- user_files
>>> index.html
<p>index</p>
--- config
location / {
}
--- request
GET /index.html
--- response_body
<p>index</p>
--- no_error_log
[error]



=== TEST 30: the index file for a directory
--- user_files
>>> dir/index.html
dir index
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /dir/
--- response_body
dir index
--- no_error_log
[error]



=== TEST 31: a directory without a trailing slash redirects
--- user_files
>>> dir/index.html
dir index
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /dir?a=1
--- error_code: 301
--- response_headers
Location: http://localhost:$TEST_NGINX_SERVER_PORT/dir/?a=1
--- no_error_log
[error]



=== TEST 32: a missing file is a 404 with a log entry
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /missing.txt
--- error_code: 404
--- response_body_like
<title>404 Not Found</title>
--- error_log
open() "$TEST_NGINX_HTML_DIR/missing.txt" failed (2: No such file or directory)



=== TEST 33: a directory without an index file is a 403
--- user_files
>>> empty/.keep
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /empty/
--- error_code: 403
--- error_log
directory index of "$TEST_NGINX_HTML_DIR/empty/" is forbidden



=== TEST 34: alias
--- user_files
>>> files/a.txt
aliased
--- config
location /static/ {
    alias $TEST_NGINX_HTML_DIR/files/;
}
--- request
GET /static/a.txt
--- response_body
aliased
--- no_error_log
[error]



=== TEST 35: HEAD of a static file
--- user_files
>>> hello.txt
hello, static
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
HEAD /hello.txt
--- response_headers
Content-Length: 14
--- response_body
--- no_error_log
[error]



=== TEST 36: POST to a static file is not allowed
--- user_files
>>> hello.txt
hello, static
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
POST /hello.txt
--- request_body chomp
x
--- error_code: 405
--- response_body_like
<title>405 Not Allowed</title>



=== TEST 37: DELETE on a static file is not allowed
--- user_files
>>> hello.txt
hello, static
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
DELETE /hello.txt
--- error_code: 405



=== TEST 38: If-Modified-Since before the file's time gives the file
--- user_files
>>> hello.txt
hello, static
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /hello.txt
--- more_headers
If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT
--- response_body
hello, static
--- no_error_log
[error]



=== TEST 39: if_modified_since before, with a date in the future, gives 304
--- user_files
>>> hello.txt
hello, static
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
    if_modified_since before;
}
--- request
GET /hello.txt
--- more_headers
If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT
--- error_code: 304
--- response_body
--- response_headers
!Content-Length
--- no_error_log
[error]



=== TEST 40: Content-Type from a types block
--- http_config
types {
    text/html html;
    application/json json;
}
--- user_files
>>> a.json
{}
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /a.json
--- response_headers
Content-Type: application/json
--- response_body
{}
--- no_error_log
[error]



=== TEST 41: unknown extensions get the default_type
--- user_files
>>> a.unknownext
x
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /a.unknownext
--- response_headers
Content-Type: text/plain
--- response_body
x
--- no_error_log
[error]



=== TEST 42: an internal location is a 404 from outside
--- config
location /int {
    internal;
    return 200 "secret\n";
}
--- request
GET /int
--- error_code: 404



=== TEST 43: no matching location falls back to the server's static files
--- config
location = /only { return 200 "only\n"; }
--- request
GET /nothing-here
--- error_code: 404
--- error_log
open() "$TEST_NGINX_SERVER_ROOT/html/nothing-here" failed (2: No such file or directory)



=== TEST 44: a Lua location and a static location side by side
--- user_files
>>> s.txt
static side
--- config
location /lua {
    content_by_lua_block { ngx.say("lua side") }
}
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /s.txt
--- response_body
static side
--- no_error_log
[error]



=== TEST 45: a URI with a percent-encoded file name
--- user_files
>>> a,b.txt
spaced
--- config
location / {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /a%2Cb.txt
--- response_body
spaced
--- no_error_log
[error]
