//! Behaviour tests: Lua snippets run against the preloaded modules, with
//! exact expected output taken from lua-cjson 2.1.0.x behaviour.

use mlua::Lua;

fn new_lua() -> Lua {
    let lua = Lua::new();
    lua_cjson::preload(&lua).expect("preload");
    lua
}

/// Runs `body` (which sees `cjson` and `safe` locals) and returns its string result.
fn run(lua: &Lua, body: &str) -> String {
    let code = format!("local cjson = require 'cjson'\nlocal safe = require 'cjson.safe'\n{body}");
    match lua.load(&code).eval::<mlua::Value>() {
        Ok(mlua::Value::String(s)) => s.to_string_lossy(),
        Ok(other) => panic!("snippet returned {other:?}: {body}"),
        Err(e) => panic!("snippet failed: {e}\n{body}"),
    }
}

fn eval(body: &str) -> String {
    run(&new_lua(), body)
}

/// Encodes the Lua expression `expr` with a fresh default module.
fn enc(expr: &str) -> String {
    eval(&format!("return cjson.encode({expr})"))
}

/// The error raised by `stmt`, which must be a plain Lua string.
fn raised(lua: &Lua, stmt: &str) -> String {
    run(
        lua,
        &format!(
            "local ok, e = pcall(function() {stmt} end)\n\
             assert(not ok, 'expected an error')\n\
             assert(type(e) == 'string', 'error is a ' .. type(e))\n\
             return e"
        ),
    )
}

fn err(stmt: &str) -> String {
    raised(&new_lua(), stmt)
}

fn dec_err(json_lua_literal: &str) -> String {
    err(&format!("cjson.decode({json_lua_literal})"))
}

// ---------------------------------------------------------------- module

#[test]
fn module_fields() {
    assert_eq!(
        eval("return cjson._NAME .. ' ' .. cjson._VERSION .. ' ' .. safe._NAME .. ' ' .. safe._VERSION"),
        "cjson 2.1.0.10 cjson 2.1.0.10"
    );
    assert_eq!(
        eval(
            "local names = {'encode','decode','new','encode_empty_table_as_object',\
             'decode_array_with_array_mt','encode_sparse_array','encode_max_depth',\
             'decode_max_depth','encode_number_precision','encode_keep_buffer',\
             'encode_invalid_numbers','decode_invalid_numbers','encode_escape_forward_slash'}\n\
             local out = {}\n\
             for _, n in ipairs(names) do out[#out+1] = type(cjson[n]) .. type(safe[n]) end\n\
             out[#out+1] = type(cjson.null) .. type(cjson.empty_array) .. type(cjson.array_mt) .. type(cjson.empty_array_mt)\n\
             return table.concat(out, ',')"
        ),
        "functionfunction,".repeat(13) + "userdatauserdatatabletable"
    );
}

#[test]
fn null_and_sentinels_are_shared() {
    assert_eq!(
        eval(
            "local n = cjson.new()\n\
             return tostring(cjson.null == safe.null) .. tostring(cjson.null == n.null)\n\
               .. tostring(cjson.empty_array == safe.empty_array)\n\
               .. tostring(cjson.array_mt == n.array_mt) .. tostring(cjson.empty_array_mt == safe.empty_array_mt)\n\
               .. tostring(cjson.null ~= cjson.empty_array) .. tostring(cjson.array_mt ~= cjson.empty_array_mt)"
        ),
        "truetruetruetruetruetruetrue"
    );
}

#[test]
fn null_is_the_null_lightuserdata() {
    let lua = new_lua();
    let null: mlua::Value = lua
        .load("return require('cjson').null")
        .eval()
        .expect("null");
    match null {
        mlua::Value::LightUserData(p) => assert!(p.0.is_null()),
        other => panic!("null is {other:?}"),
    }
    // Host code (ngx.null) uses the same NULL light userdata.
    lua.globals()
        .set(
            "host_null",
            mlua::Value::LightUserData(mlua::LightUserData(std::ptr::null_mut())),
        )
        .expect("set");
    assert_eq!(
        run(
            &lua,
            "return tostring(host_null == cjson.null) .. cjson.encode({host_null}) .. tostring(cjson.decode('null') == host_null)"
        ),
        "true[null]true"
    );
}

#[test]
fn rust_api_module_tables_are_independent() {
    let lua = Lua::new();
    let a = lua_cjson::module(&lua).expect("module");
    let b = lua_cjson::safe_module(&lua).expect("safe");
    lua.globals().set("a", a).expect("a");
    lua.globals().set("b", b).expect("b");
    let out: String = lua
        .load(
            "a.encode_number_precision(3)\n\
             local r, e = b.decode('[')\n\
             return a.encode(1/3) .. ' ' .. b.encode(1/3) .. ' ' .. tostring(r) .. ' ' .. e",
        )
        .eval()
        .expect("eval");
    assert_eq!(
        out,
        "0.333 0.33333333333333 nil Expected value but found T_END at character 2"
    );
}

#[test]
fn require_caches_and_new_is_independent() {
    assert_eq!(
        eval(
            "local n = cjson.new()\n\
             local s2 = safe.new()\n\
             n.encode_number_precision(2)\n\
             n.encode_empty_table_as_object(false)\n\
             n.encode_escape_forward_slash(false)\n\
             local r, e = s2.decode('x')\n\
             return tostring(require('cjson') == cjson) .. ' ' .. n.encode({1/3, {}, '/'}) .. ' '\n\
               .. cjson.encode({1/3, '/'}) .. ' ' .. cjson.encode({}) .. ' '\n\
               .. tostring(cjson.encode_number_precision()) .. ' ' .. tostring(n.encode_number_precision())\n\
               .. ' ' .. tostring(r) .. ' ' .. e"
        ),
        "true [0.33,[],\"/\"] [0.33333333333333,\"\\/\"] {} 14 2 nil Expected value but found invalid token at character 1"
    );
}

// ---------------------------------------------------------------- encoding

#[test]
fn encode_scalars() {
    assert_eq!(enc("nil"), "null");
    assert_eq!(enc("cjson.null"), "null");
    assert_eq!(enc("true"), "true");
    assert_eq!(enc("false"), "false");
    assert_eq!(enc("'hello'"), "\"hello\"");
    assert_eq!(enc("''"), "\"\"");
    assert_eq!(enc("cjson.empty_array"), "[]");
}

#[test]
fn encode_numbers_like_printf_g14() {
    assert_eq!(enc("3"), "3");
    assert_eq!(enc("100"), "100");
    assert_eq!(enc("-7"), "-7");
    assert_eq!(enc("0.1"), "0.1");
    assert_eq!(enc("1/3"), "0.33333333333333");
    assert_eq!(enc("-2/3"), "-0.66666666666667");
    assert_eq!(enc("1e300"), "1e+300");
    assert_eq!(enc("1e15"), "1e+15");
    assert_eq!(enc("1e-7"), "1e-07");
    assert_eq!(enc("-0"), "-0");
    assert_eq!(enc("0"), "0");
    assert_eq!(enc("2^53"), "9.007199254741e+15");
    assert_eq!(enc("123456789012"), "123456789012");
    assert_eq!(enc("3.14159265358979"), "3.1415926535898");
    assert_eq!(enc("{1.5, 2.25, -0.001}"), "[1.5,2.25,-0.001]");
}

#[test]
fn encode_number_precision_option() {
    assert_eq!(
        eval(
            "local a = cjson.encode_number_precision()\n\
             local b = cjson.encode_number_precision(3)\n\
             local s = cjson.encode({1/3, 12345, 0.1})\n\
             local c = cjson.encode_number_precision(16)\n\
             return a .. ' ' .. b .. ' ' .. c .. ' ' .. s .. ' ' .. cjson.encode(0.1) .. ' ' .. cjson.encode(1/3)"
        ),
        "14 3 16 [0.333,1.23e+04,0.1] 0.1 0.3333333333333333"
    );
    assert_eq!(
        err("cjson.encode_number_precision(0)"),
        "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 16)"
    );
    assert_eq!(
        err("cjson.encode_number_precision(17)"),
        "bad argument #1 to 'encode_number_precision' (expected integer between 1 and 16)"
    );
    assert_eq!(
        err("cjson.encode_number_precision('x')"),
        "bad argument #1 to 'encode_number_precision' (number expected, got string)"
    );
    assert_eq!(
        err("cjson.encode_number_precision(1, 2)"),
        "bad argument #2 to 'encode_number_precision' (found too many arguments)"
    );
    assert_eq!(
        eval("return tostring(cjson.encode_number_precision('5'))"),
        "5"
    );
}

#[test]
fn encode_string_escapes() {
    assert_eq!(
        eval(r#"return cjson.encode('a"b\\c/d\b\f\n\r\t')"#),
        r#""a\"b\\c\/d\b\f\n\r\t""#
    );
    assert_eq!(
        eval(r#"return cjson.encode('\0\1\31\127 ~')"#),
        r#""\u0000\u0001\u001f\u007f ~""#
    );
    // Bytes >= 0x80 pass through untouched, valid UTF-8 or not.
    assert_eq!(
        eval(r#"return cjson.encode('\195\169\255') == '"\195\169\255"' and 'raw' or 'escaped'"#),
        "raw"
    );
    assert_eq!(enc("{['a/b'] = 'c/d'}"), r#"{"a\/b":"c\/d"}"#);
}

#[test]
fn encode_all_octets_round_trip() {
    let lua = new_lua();
    let encoded: mlua::LuaString = lua
        .load(
            "local cjson = require 'cjson'\n\
             local t = {}\n\
             for i = 0, 255 do t[#t+1] = string.char(i) end\n\
             local raw = table.concat(t)\n\
             local e = cjson.encode(raw)\n\
             assert(cjson.decode(e) == raw, 'round trip')\n\
             return e",
        )
        .eval()
        .expect("eval");
    let mut want = vec![b'"'];
    for b in 0u8..=255 {
        let esc: Option<String> = match b {
            0x08 => Some("\\b".into()),
            0x09 => Some("\\t".into()),
            0x0a => Some("\\n".into()),
            0x0c => Some("\\f".into()),
            0x0d => Some("\\r".into()),
            b'"' => Some("\\\"".into()),
            b'\\' => Some("\\\\".into()),
            b'/' => Some("\\/".into()),
            0..=0x1f | 0x7f => Some(format!("\\u{b:04x}")),
            _ => None,
        };
        match esc {
            Some(e) => want.extend_from_slice(e.as_bytes()),
            None => want.push(b),
        }
    }
    want.push(b'"');
    assert_eq!(&encoded.as_bytes()[..], &want[..]);
}

#[test]
fn encode_escape_forward_slash_option() {
    assert_eq!(
        eval(
            "local a = cjson.encode_escape_forward_slash()\n\
             local s1 = cjson.encode('http://x/y')\n\
             local b = cjson.encode_escape_forward_slash(false)\n\
             local s2 = cjson.encode({['/k'] = 'http://x/y'})\n\
             local c = cjson.encode_escape_forward_slash('on')\n\
             return tostring(a) .. tostring(b) .. tostring(c) .. ' ' .. s1 .. ' ' .. s2 .. ' ' .. cjson.encode('/')"
        ),
        r#"truefalsetrue "http:\/\/x\/y" {"/k":"http://x/y"} "\/""#
    );
}

#[test]
fn encode_arrays_and_objects() {
    assert_eq!(enc("{1, 2, 3}"), "[1,2,3]");
    assert_eq!(enc("{'a', {true, false}, {}}"), r#"["a",[true,false],{}]"#);
    assert_eq!(enc("{a = 1}"), r#"{"a":1}"#);
    assert_eq!(enc("{a = {b = {c = 'd'}}}"), r#"{"a":{"b":{"c":"d"}}}"#);
    assert_eq!(enc("{[1.5] = 1}"), r#"{"1.5":1}"#);
    assert_eq!(enc("{[0] = 'z'}"), r#"{"0":"z"}"#);
    assert_eq!(enc("{[-1] = 'z'}"), r#"{"-1":"z"}"#);
    assert_eq!(enc("{['1'] = 'x'}"), r#"{"1":"x"}"#);
    assert_eq!(enc("{1, 2, nil, 4}"), "[1,2,null,4]");
    assert_eq!(enc("{cjson.null, cjson.null}"), "[null,null]");
    assert_eq!(enc("{[1] = 'a', [3] = 'c'}"), r#"["a",null,"c"]"#);
    // Multi-key objects: key order follows next(), so check via decode.
    assert_eq!(
        eval(
            "local s = cjson.encode({x = 1, y = 'two', [3] = true})\n\
             local t = cjson.decode(s)\n\
             return tostring(t.x) .. t.y .. tostring(t['3']) .. tostring(#s)"
        ),
        "1twotrue26"
    );
}

#[test]
fn encode_mixed_and_unusual_tables() {
    // Sequence part plus other keys: an object.
    assert_eq!(
        eval(
            "local t = cjson.decode(cjson.encode({1, 2, x = 3}))\n\
             return tostring(t['1']) .. tostring(t['2']) .. tostring(t.x)"
        ),
        "123"
    );
    // Integer keys stored in the hash part, in any order: still an array.
    assert_eq!(
        eval("local t = {} t[3] = 'c' t[1] = 'a' t[2] = 'b' return cjson.encode(t)"),
        r#"["a","b","c"]"#
    );
    assert_eq!(enc("{[2] = 'b', [1] = 'a'}"), r#"["a","b"]"#);
    assert_eq!(
        enc("{[1] = 'a', [2] = 'b', [4] = 'd'}"),
        r#"["a","b",null,"d"]"#
    );
    // Zero, negative and fractional keys make an object.
    assert_eq!(enc("{[1] = 'a', [1.5] = 'b'}").len(), 19);
    // The sparse check wins over errors in elements.
    assert_eq!(
        err("cjson.encode({print, [100] = 1})"),
        "Cannot serialise table: excessively sparse array"
    );
    assert_eq!(
        err("cjson.encode({[100] = 1, [1] = print})"),
        "Cannot serialise table: excessively sparse array"
    );
    assert_eq!(
        err("cjson.encode({x = print, [1] = 1})"),
        "Cannot serialise function: type not supported"
    );
    assert_eq!(
        err("cjson.encode({1, {2, {3, print}}})"),
        "Cannot serialise function: type not supported"
    );
    assert_eq!(
        err("cjson.encode({a = {b = {[true] = 1}}})"),
        "Cannot serialise boolean: table key must be a number or string"
    );
    // Keys beyond the C int range never form arrays.
    assert_eq!(enc("{[2^31] = 1}"), r#"{"2147483648":1}"#);
}

#[test]
fn encode_nested_mixed_tables_stays_linear() {
    // Each level first looks like a sequence and then is not: re-encoding
    // must not multiply with depth.
    assert_eq!(
        eval(
            "local t = {'leaf'}\n\
             for i = 1, 90 do t = {t, x = i} end\n\
             local s = cjson.encode(t)\n\
             local n = 0 for _ in s:gmatch('\"x\"') do n = n + 1 end\n\
             return n .. ' ' .. #s"
        ),
        "90 1169"
    );
}

#[test]
fn encode_ignores_metamethods() {
    assert_eq!(
        eval(
            "local t = setmetatable({a = 1}, {__index = function() error('no') end,\n\
               __newindex = function() error('no') end, __pairs = function() error('no') end})\n\
             local arr = setmetatable({1, 2}, {__index = function() return 'x' end})\n\
             return cjson.encode(t) .. cjson.encode(arr)"
        ),
        r#"{"a":1}[1,2]"#
    );
}

#[test]
fn encode_empty_table_as_object_option() {
    assert_eq!(
        eval(
            "local a = cjson.encode_empty_table_as_object()\n\
             local s1 = cjson.encode({})\n\
             local b = cjson.encode_empty_table_as_object(false)\n\
             local s2 = cjson.encode({a = {}, b = {{}}})\n\
             local s3 = cjson.encode({})\n\
             local c = cjson.encode_empty_table_as_object('on')\n\
             local s4 = cjson.encode({})\n\
             local d = cjson.encode_empty_table_as_object('off')\n\
             return tostring(a) .. tostring(b) .. tostring(c) .. tostring(d) .. ' ' .. s1 .. s3 .. s4 .. ' ' .. #s2"
        ),
        "truefalsetruefalse {}[]{} 17"
    );
    assert_eq!(
        err("cjson.encode_empty_table_as_object('maybe')"),
        "bad argument #1 to 'encode_empty_table_as_object' (invalid option 'maybe')"
    );
    assert_eq!(
        err("cjson.encode_empty_table_as_object({})"),
        "bad argument #1 to 'encode_empty_table_as_object' (string expected, got table)"
    );
}

#[test]
fn array_mt_and_empty_array_mt() {
    assert_eq!(enc("setmetatable({}, cjson.array_mt)"), "[]");
    assert_eq!(enc("setmetatable({1, 2}, cjson.array_mt)"), "[1,2]");
    // array_mt uses the sequence part only; hash keys are ignored.
    assert_eq!(enc("setmetatable({1, 2, x = 3}, cjson.array_mt)"), "[1,2]");
    assert_eq!(enc("setmetatable({}, cjson.empty_array_mt)"), "[]");
    assert_eq!(enc("setmetatable({7}, cjson.empty_array_mt)"), "[7]");
    // lua-cjson checks empty_array_mt for anything not encodable as array.
    assert_eq!(enc("setmetatable({a = 1}, cjson.empty_array_mt)"), "[]");
    assert_eq!(enc("setmetatable({}, {})"), "{}");
    assert_eq!(
        enc("{data = cjson.empty_array, n = setmetatable({}, cjson.array_mt)}").len(),
        18
    );
    assert_eq!(enc("{cjson.empty_array}"), "[[]]");
}

#[test]
fn sparse_arrays() {
    assert_eq!(
        eval("local a, b, c = cjson.encode_sparse_array() return tostring(a) .. ',' .. b .. ',' .. c"),
        "false,2,10"
    );
    assert_eq!(
        enc("{[10] = 1}"),
        "[null,null,null,null,null,null,null,null,null,1]"
    );
    assert_eq!(
        err("cjson.encode({[11] = 1})"),
        "Cannot serialise table: excessively sparse array"
    );
    assert_eq!(
        err("cjson.encode({[1] = 1, [2] = 2, [1000] = 3})"),
        "Cannot serialise table: excessively sparse array"
    );
    assert_eq!(
        eval(
            "local a, b, c = cjson.encode_sparse_array(true, 2, 3)\n\
             local s1 = cjson.encode({[3] = 'sparse test'})\n\
             local s2 = cjson.encode({[1] = 'one', [4] = 'sparse test'})\n\
             local s3 = cjson.encode({[1] = 'one', [5] = 'sparse test'})\n\
             local ok = s3 == '{\"1\":\"one\",\"5\":\"sparse test\"}' or s3 == '{\"5\":\"sparse test\",\"1\":\"one\"}'\n\
             local d, e, f = cjson.encode_sparse_array(false)\n\
             return table.concat({tostring(a), b, c, s1, s2, tostring(ok), tostring(d), e, f}, ' ')"
        ),
        r#"true 2 3 [null,null,"sparse test"] ["one",null,null,"sparse test"] true false 2 3"#
    );
    // ratio 0 allows any sparseness.
    assert_eq!(
        eval(
            "cjson.encode_sparse_array(false, 0)\n\
             return cjson.encode({[12] = 1})"
        ),
        "[null,null,null,null,null,null,null,null,null,null,null,1]"
    );
    assert_eq!(
        eval("return select('#', cjson.encode_sparse_array()) .. select('#', cjson.encode_max_depth())"),
        "31"
    );
    assert_eq!(
        err("cjson.encode_sparse_array(true, -1)"),
        "bad argument #1 to 'encode_sparse_array' (expected integer between 0 and 2147483647)"
    );
    assert_eq!(
        err("cjson.encode_sparse_array(true, 'x')"),
        "bad argument #2 to 'encode_sparse_array' (number expected, got string)"
    );
    assert_eq!(
        err("cjson.encode_sparse_array(true, 1, 1, 1)"),
        "bad argument #4 to 'encode_sparse_array' (found too many arguments)"
    );
}

#[test]
fn encode_errors() {
    assert_eq!(
        err("cjson.encode(function() end)"),
        "Cannot serialise function: type not supported"
    );
    assert_eq!(
        err("cjson.encode({f = print})"),
        "Cannot serialise function: type not supported"
    );
    assert_eq!(
        err("cjson.encode(coroutine.create(function() end))"),
        "Cannot serialise thread: type not supported"
    );
    assert_eq!(
        err("cjson.encode(io.stdout)"),
        "Cannot serialise userdata: type not supported"
    );
    assert_eq!(
        err("cjson.encode({[true] = 1})"),
        "Cannot serialise boolean: table key must be a number or string"
    );
    assert_eq!(
        err("cjson.encode({[{}] = 1})"),
        "Cannot serialise table: table key must be a number or string"
    );
    assert_eq!(
        err("cjson.encode()"),
        "bad argument #1 to 'encode' (expected 1 argument)"
    );
    assert_eq!(
        err("cjson.encode(1, 2)"),
        "bad argument #1 to 'encode' (expected 1 argument)"
    );
}

#[test]
fn encode_invalid_numbers_option() {
    assert_eq!(
        err("cjson.encode(0/0)"),
        "Cannot serialise number: must not be NaN or Infinity"
    );
    assert_eq!(
        err("cjson.encode({math.huge})"),
        "Cannot serialise number: must not be NaN or Infinity"
    );
    assert_eq!(
        err("cjson.encode({[math.huge] = 1})"),
        "Cannot serialise number: must not be NaN or Infinity"
    );
    assert_eq!(
        eval(
            "local a = cjson.encode_invalid_numbers()\n\
             local b = cjson.encode_invalid_numbers(true)\n\
             local s1 = cjson.encode({0/0, math.huge, -math.huge})\n\
             local c = cjson.encode_invalid_numbers('null')\n\
             local s2 = cjson.encode({0/0, math.huge, -math.huge, 1})\n\
             local d = cjson.encode_invalid_numbers('on')\n\
             local e = cjson.encode_invalid_numbers('off')\n\
             return table.concat({tostring(a), tostring(b), s1, c, s2, tostring(d), tostring(e)}, ' ')"
        ),
        "false true [NaN,Infinity,-Infinity] null [null,null,null,1] true false"
    );
    assert_eq!(
        err("cjson.encode_invalid_numbers('maybe')"),
        "bad argument #1 to 'encode_invalid_numbers' (invalid option 'maybe')"
    );
}

#[test]
fn encode_depth_limit() {
    assert_eq!(
        eval("return tostring(cjson.encode_max_depth()) .. ' ' .. tostring(cjson.encode_max_depth(5))"),
        "1000 5"
    );
    let lua = new_lua();
    run(&lua, "cjson.encode_max_depth(5) return ''");
    assert_eq!(
        run(&lua, "return cjson.encode({{{{{'nested'}}}}})"),
        r#"[[[[["nested"]]]]]"#
    );
    assert_eq!(
        raised(&lua, "cjson.encode({{{{{{'nested'}}}}}})"),
        "Cannot serialise, excessive nesting (6)"
    );
    assert_eq!(
        raised(&lua, "local t = {} t[1] = t cjson.encode(t)"),
        "Cannot serialise, excessive nesting (6)"
    );
    assert_eq!(
        err("local big = {}\n\
             for i = 1, 1100 do big = {{10, false, true, cjson.null}, 'string', a = big} end\n\
             cjson.encode(big)"),
        "Cannot serialise, excessive nesting (1001)"
    );
    assert_eq!(
        eval(
            "local t = {} for i = 1, 999 do t = {t} end\n\
             local s = cjson.encode(t)\n\
             return #s .. s:sub(1, 3)"
        ),
        "2000[[["
    );
    assert_eq!(
        err("cjson.encode_max_depth(0)"),
        "bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"
    );
}

#[test]
fn encode_deep_nesting_matches_shallow_rules() {
    // Beyond the recursion threshold the encoder switches strategy; the
    // output must follow the same rules at every depth.
    assert_eq!(
        eval(
            "local t, s = 'end', '\"end\"'\n\
             for i = 1, 300 do\n\
               local flag = i % 2 == 0\n\
               t = {k = {t, flag, {}, cjson.null, cjson.empty_array, setmetatable({}, cjson.array_mt), 0.5}}\n\
               s = '{\"k\":[' .. s .. ',' .. tostring(flag) .. ',{},null,[],[],0.5]}'\n\
             end\n\
             local got = cjson.encode(t)\n\
             return tostring(got == s) .. ' ' .. #got"
        ),
        "true 9455"
    );
    assert_eq!(
        eval(
            "cjson.encode_skip_unsupported_value_types(true)\n\
             local t, s = {}, '[]'\n\
             for i = 1, 250 do\n\
               t = {print, t, print, f = print}\n\
               s = '{\"2\":' .. s .. '}'\n\
             end\n\
             local deep = t\n\
             t, s = 1, '1'\n\
             for i = 1, 250 do t = {print, t} s = '[' .. s .. ']' end\n\
             return tostring(cjson.encode(t) == s) .. ' ' .. tostring(#cjson.encode(deep) > 1000)"
        ),
        "true true"
    );
    assert_eq!(
        err("local t = {x = print} for i = 1, 300 do t = {t} end\n\
             cjson.encode(t)"),
        "Cannot serialise function: type not supported"
    );
    assert_eq!(
        err("local t = {[50] = 1} for i = 1, 300 do t = {a = t} end\n\
             cjson.encode(t)"),
        "Cannot serialise table: excessively sparse array"
    );
    assert_eq!(
        eval(
            "local t = {[50] = 1}\n\
             for i = 1, 300 do t = {a = t} end\n\
             cjson.encode_sparse_array(true)\n\
             local s = cjson.encode(t)\n\
             return s:sub(1, 12) .. ' ' .. s:sub(1491, 1510) .. ' ' .. #s"
        ),
        r#"{"a":{"a":{" {"a":{"a":{"50":1}}} 1808"#
    );
}

#[test]
fn works_inside_coroutines() {
    assert_eq!(
        eval(
            "local co = coroutine.wrap(function()\n\
               local a = cjson.encode({1, {x = 'y'}})\n\
               coroutine.yield(a)\n\
               local ok, e = pcall(cjson.decode, '[1,')\n\
               coroutine.yield(e)\n\
               local r, e2 = safe.decode('{')\n\
               return cjson.decode(a)[2].x .. ' ' .. tostring(r) .. ' ' .. e2\n\
             end)\n\
             return co() .. ' | ' .. co() .. ' | ' .. co()"
        ),
        r#"[1,{"x":"y"}] | Expected value but found T_END at character 4 | y nil Expected object key string but found T_END at character 2"#
    );
}

#[test]
fn encode_skip_unsupported_value_types() {
    assert_eq!(
        eval(
            "local a = cjson.encode_skip_unsupported_value_types(true)\n\
             return tostring(a) .. ' ' .. cjson.encode({1, print, 2}) .. ' ' .. cjson.encode({f = print})\n\
               .. ' ' .. cjson.encode({print, 3})"
        ),
        "true [1,2] {} [3]"
    );
}

#[test]
fn encode_keep_buffer_option() {
    assert_eq!(
        eval(
            "local a = cjson.encode_keep_buffer()\n\
             local b = cjson.encode_keep_buffer(false)\n\
             local s = cjson.encode({1, 'x'})\n\
             local c = cjson.encode_keep_buffer(true)\n\
             return table.concat({tostring(a), tostring(b), s, tostring(c), cjson.encode({2})}, ' ')"
        ),
        r#"true false [1,"x"] true [2]"#
    );
}

// ---------------------------------------------------------------- decoding

#[test]
fn decode_values() {
    assert_eq!(
        eval(r#"return cjson.decode('"test string"')"#),
        "test string"
    );
    assert_eq!(
        eval("local t = cjson.decode('[ 0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10 ]') return table.concat(t, ',')"),
        "0,-5000,-1,0.0003,1023.2,0"
    );
    assert_eq!(
        eval("return tostring(cjson.decode('null') == cjson.null) .. tostring(cjson.decode('true')) .. tostring(cjson.decode('false'))"),
        "truetruefalse"
    );
    assert_eq!(
        eval(
            r#"local t = cjson.decode('{ "1": "one", "3": "three" }') return t['1'] .. t['3'] .. tostring(t[1])"#
        ),
        "onethreenil"
    );
    assert_eq!(
        eval(
            r#"local t = cjson.decode('[ "one", null, "three" ]') return t[1] .. tostring(t[2] == cjson.null) .. t[3] .. #t"#
        ),
        "onetruethree3"
    );
    assert_eq!(
        eval("local t = cjson.decode(' { } ') local a = cjson.decode('[]') return type(t) .. type(a) .. tostring(next(t)) .. tostring(next(a))"),
        "tabletablenilnil"
    );
    assert_eq!(eval("return tostring(cjson.decode('  42  '))"), "42");
    assert_eq!(eval("return tostring(cjson.decode('-0'))"), "-0");
    assert_eq!(eval("return tostring(1/cjson.decode('-0'))"), "-inf");
    assert_eq!(eval("return tostring(cjson.decode('1e2'))"), "100");
    assert_eq!(
        eval("return tostring(cjson.decode('9007199254740993'))"),
        "9.007199254741e+15"
    );
    assert_eq!(
        eval("return string.format('%.17g', cjson.decode('12345678901234567890'))"),
        "1.2345678901234567e+19"
    );
    // A number argument is accepted like luaL_checklstring does.
    assert_eq!(eval("return tostring(cjson.decode(123))"), "123");
}

#[test]
fn decode_nested_structures() {
    assert_eq!(
        eval(
            r#"local t = cjson.decode('{"a":[1,{"b":[true,null,"x"]},[]],"c":{},"d":"e"}')
               return tostring(t.a[1]) .. tostring(t.a[2].b[1]) .. tostring(t.a[2].b[2] == cjson.null)
                 .. t.a[2].b[3] .. #t.a[3] .. tostring(next(t.c)) .. t.d"#
        ),
        "1truetruex0nile"
    );
}

#[test]
fn decode_large_containers() {
    // Exercise the early-flush paths (containers larger than the buffer).
    assert_eq!(
        eval(
            "local parts = {}\n\
             for i = 1, 5000 do parts[i] = tostring(i) end\n\
             local t = cjson.decode('[' .. table.concat(parts, ',') .. ']')\n\
             local sum = 0 for i = 1, #t do sum = sum + t[i] end\n\
             local o = {}\n\
             for i = 1, 3000 do o[i] = string.format('\"k%d\":[%d,{\"v\":\"s%d\"}]', i, i, i) end\n\
             local obj = cjson.decode('{' .. table.concat(o, ',') .. '}')\n\
             local n, ok = 0, true\n\
             for k, v in pairs(obj) do\n\
               n = n + 1\n\
               ok = ok and k == 'k' .. v[1] and v[2].v == 's' .. v[1]\n\
             end\n\
             return #t .. ' ' .. sum .. ' ' .. n .. ' ' .. tostring(ok)"
        ),
        "5000 12502500 3000 true"
    );
    // Many nested levels each holding buffered siblings.
    assert_eq!(
        eval(
            "local s = string.rep('[1,2,3,', 900) .. '0' .. string.rep(']', 900)\n\
             local t = cjson.decode(s)\n\
             local d = 0\n\
             while type(t) == 'table' do d = d + 1 t = t[4] end\n\
             return tostring(d) .. ' ' .. tostring(t)"
        ),
        "900 0"
    );
}

#[test]
fn decode_unicode_escapes() {
    assert_eq!(
        eval(r#"return cjson.decode('"\\u0041\\u00e9\\u20AC\\uD83D\\uDE00"')"#),
        "Aé€😀"
    );
    assert_eq!(
        eval(r#"return cjson.decode('"\\uF800"') == '\239\160\128' and 'ok' or 'bad'"#),
        "ok"
    );
    assert_eq!(
        eval(
            r#"return cjson.decode('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t"') == 'a"b\\c/d\b\f\n\r\t' and 'ok' or 'bad'"#
        ),
        "ok"
    );
    assert_eq!(eval(r#"return #cjson.decode('"\\u0000"') .. ''"#), "1");
    for bad in [
        r#"'"\\uDC00\\uD800"'"#,
        r#"'"\\uDB00\\uDB00"'"#,
        r#"'"\\uDB00"'"#,
        r#"'"\\uDB00\\uD"'"#,
        r#"'"\\u12"'"#,
        r#"'"\\u12G4"'"#,
    ] {
        assert_eq!(
            dec_err(bad),
            "Expected value but found invalid unicode escape code at character 2",
            "{bad}"
        );
    }
}

#[test]
fn decode_strings_in_all_positions() {
    // Escaped and raw (non-UTF-8) strings as keys and values, in containers
    // large enough to be flushed early, must all survive intact.
    assert_eq!(
        eval(
            "local parts = {}\n\
             for i = 1, 700 do\n\
               parts[i] = string.format('\"k\\\\n%d\\255\":[\"v\\\\t%d\",\"\\254%d\"]', i, i, i)\n\
             end\n\
             local t = cjson.decode('{' .. table.concat(parts, ',') .. '}')\n\
             local ok, n = true, 0\n\
             for i = 1, 700 do\n\
               local v = t['k\\n' .. i .. '\\255']\n\
               ok = ok and v ~= nil and v[1] == 'v\\t' .. i and v[2] == '\\254' .. i\n\
             end\n\
             for _ in pairs(t) do n = n + 1 end\n\
             return tostring(ok) .. ' ' .. n"
        ),
        "true 700"
    );
    assert_eq!(
        eval(
            r#"local t = cjson.decode('{"\\u00e9\\n":"\255"}') return t['\195\169\n'] == '\255' and 'ok' or 'bad'"#
        ),
        "ok"
    );
}

#[test]
fn decode_raw_bytes_pass_through() {
    assert_eq!(
        eval(
            r#"local s = cjson.decode('"\1\31\255 é"') return s == '\1\31\255 é' and 'ok' or 'bad'"#
        ),
        "ok"
    );
}

#[test]
fn decode_errors() {
    assert_eq!(
        dec_err("''"),
        "Expected value but found T_END at character 1"
    );
    assert_eq!(
        dec_err("'   '"),
        "Expected value but found T_END at character 4"
    );
    assert_eq!(
        dec_err(r#"'{ "unexpected eof": '"#),
        "Expected value but found T_END at character 21"
    );
    assert_eq!(
        dec_err(r#"'{ "extra data": true }, false'"#),
        "Expected the end but found T_COMMA at character 23"
    );
    assert_eq!(
        dec_err("'[1] x'"),
        "Expected the end but found invalid token at character 5"
    );
    assert_eq!(
        dec_err("'[1] 2'"),
        "Expected the end but found T_NUMBER at character 5"
    );
    assert_eq!(
        dec_err("'truex'"),
        "Expected the end but found invalid token at character 5"
    );
    assert_eq!(
        dec_err(r#"'"abc'"#),
        "Expected value but found unexpected end of string at character 5"
    );
    assert_eq!(
        dec_err(r#"[[ { "bad escape \q code" } ]]"#),
        "Expected object key string but found invalid escape code at character 16"
    );
    assert_eq!(
        dec_err(r#"[[ { "bad unicode \u0f6 escape" } ]]"#),
        "Expected object key string but found invalid unicode escape code at character 17"
    );
    assert_eq!(
        dec_err(r#"' [ "bad barewood", test ] '"#),
        "Expected value but found invalid token at character 20"
    );
    assert_eq!(
        dec_err("'[ -+12 ]'"),
        "Expected value but found invalid number at character 3"
    );
    assert_eq!(
        dec_err("'-v'"),
        "Expected value but found invalid number at character 1"
    );
    assert_eq!(
        dec_err("'[ 0.4eg10 ]'"),
        "Expected comma or array end but found invalid token at character 6"
    );
    assert_eq!(
        dec_err("'[1,2'"),
        "Expected comma or array end but found T_END at character 5"
    );
    assert_eq!(
        dec_err("'[1,]'"),
        "Expected value but found T_ARR_END at character 4"
    );
    assert_eq!(
        dec_err(r#"'{"a":1'"#),
        "Expected comma or object end but found T_END at character 7"
    );
    assert_eq!(
        dec_err(r#"'{"a":1 "b":2}'"#),
        "Expected comma or object end but found T_STRING at character 8"
    );
    assert_eq!(
        dec_err("'{1:2}'"),
        "Expected object key string but found T_NUMBER at character 2"
    );
    assert_eq!(
        dec_err(r#"'{"a",1}'"#),
        "Expected colon but found T_COMMA at character 5"
    );
    assert_eq!(
        dec_err(r#"'{"a":1,}'"#),
        "Expected object key string but found T_OBJ_END at character 8"
    );
    assert_eq!(
        dec_err("']'"),
        "Expected value but found T_ARR_END at character 1"
    );
    assert_eq!(
        dec_err("'tru'"),
        "Expected value but found invalid token at character 1"
    );
    assert_eq!(
        dec_err("'nul'"),
        "Expected value but found invalid token at character 1"
    );
    assert_eq!(
        dec_err("'Noodle'"),
        "Expected value but found invalid token at character 1"
    );
    assert_eq!(
        dec_err("'Infrared'"),
        "Expected the end but found invalid token at character 4"
    );
    assert_eq!(
        dec_err("'.5'"),
        "Expected value but found invalid token at character 1"
    );
    assert_eq!(
        dec_err(r#"'\0"\0"'"#),
        "JSON parser does not support UTF-16 or UTF-32"
    );
    assert_eq!(
        dec_err(r#"'"\0\0\0'"#),
        "JSON parser does not support UTF-16 or UTF-32"
    );
    // A NUL ends the document, as in the C module's C-string parsing.
    assert_eq!(
        eval(r#"return tostring(cjson.decode('[1]\0garbage')[1])"#),
        "1"
    );
    assert_eq!(
        dec_err(r#"'"ab\0cd"'"#),
        "Expected value but found unexpected end of string at character 4"
    );
    assert_eq!(
        err("cjson.decode()"),
        "bad argument #1 to 'decode' (expected 1 argument)"
    );
    assert_eq!(
        err("cjson.decode('1', 2)"),
        "bad argument #1 to 'decode' (expected 1 argument)"
    );
    assert_eq!(
        err("cjson.decode(nil)"),
        "bad argument #1 to 'decode' (string expected, got nil)"
    );
    assert_eq!(
        err("cjson.decode({})"),
        "bad argument #1 to 'decode' (string expected, got table)"
    );
}

#[test]
fn decode_invalid_numbers_option() {
    assert_eq!(
        eval(
            "local a = cjson.decode_invalid_numbers()\n\
             local t = cjson.decode('[ +Inf, Inf, -Inf, +Infinity, -infinity ]')\n\
             local n = cjson.decode('[ +NaN, NaN, -NaN ]')\n\
             local z = cjson.decode('[ 0123, 00.33 ]')\n\
             local hex = cjson.decode('0x6.ffp1')\n\
             local out = {tostring(a)}\n\
             for i = 1, #t do out[#out+1] = tostring(t[i]) end\n\
             for i = 1, #n do out[#out+1] = tostring(n[i] ~= n[i]) end\n\
             out[#out+1] = z[1] .. '/' .. z[2] .. '/' .. hex .. '/' .. cjson.decode('0x10')\n\
             return table.concat(out, ' ')"
        ),
        "true inf inf -inf inf -inf true true true 123/0.33/13.9921875/16"
    );
    let lua = new_lua();
    assert_eq!(
        run(&lua, "return tostring(cjson.decode_invalid_numbers(false))"),
        "false"
    );
    for (input, msg) in [
        (
            "'0x6'",
            "Expected value but found invalid number at character 1",
        ),
        (
            "'[ 0123, 00.33 ]'",
            "Expected value but found invalid number at character 3",
        ),
        (
            "'[ +Inf, Inf, -Inf ]'",
            "Expected value but found invalid token at character 3",
        ),
        (
            "'[ +NaN, NaN, -NaN ]'",
            "Expected value but found invalid token at character 3",
        ),
        (
            "'[ Inf ]'",
            "Expected value but found invalid token at character 3",
        ),
        (
            "'-Infinity'",
            "Expected value but found invalid number at character 1",
        ),
    ] {
        assert_eq!(
            raised(&lua, &format!("cjson.decode({input})")),
            msg,
            "{input}"
        );
    }
    assert_eq!(
        run(&lua, "return tostring(cjson.decode('[0, -0.5, 10]')[3])"),
        "10"
    );
    assert_eq!(
        run(&lua, "return tostring(cjson.decode_invalid_numbers('on'))"),
        "true"
    );
}

#[test]
fn decode_depth_limit() {
    let lua = new_lua();
    assert_eq!(
        run(
            &lua,
            "return cjson.decode_max_depth() .. ' ' .. cjson.decode_max_depth(5)"
        ),
        "1000 5"
    );
    assert_eq!(
        run(
            &lua,
            r#"return cjson.decode('[[[[[ "nested" ]]]]]')[1][1][1][1][1]"#
        ),
        "nested"
    );
    assert_eq!(
        raised(&lua, r#"cjson.decode('[[[[[[ "nested" ]]]]]]')"#),
        "Found too many nested data structures (6) at character 6"
    );
    assert_eq!(
        run(
            &lua,
            r#"return cjson.decode('{"a":{"b":{"c":{"d":{"e":"nested"}}}}}').a.b.c.d.e"#
        ),
        "nested"
    );
    assert_eq!(
        raised(
            &lua,
            r#"cjson.decode('{"a":{"b":{"c":{"d":{"e":{"f":"nested"}}}}}}')"#
        ),
        "Found too many nested data structures (6) at character 26"
    );
    assert_eq!(
        err(r#"cjson.decode(string.rep('[', 1100) .. '1100' .. string.rep(']', 1100))"#),
        "Found too many nested data structures (1001) at character 1001"
    );
    assert_eq!(
        eval("local t = cjson.decode(string.rep('[', 1000) .. string.rep(']', 1000)) return type(t[1][1])"),
        "table"
    );
    assert_eq!(
        err("cjson.decode_max_depth(0)"),
        "bad argument #1 to 'decode_max_depth' (expected integer between 1 and 2147483647)"
    );
}

#[test]
fn depth_above_hard_limit_errors_cleanly() {
    assert_eq!(
        eval(
            "cjson.decode_max_depth(100000)\n\
             cjson.encode_max_depth(100000)\n\
             local ok1, e1 = pcall(cjson.decode, string.rep('[', 50000) .. string.rep(']', 50000))\n\
             local t = {} for i = 1, 50000 do t = {t} end\n\
             local ok2, e2 = pcall(cjson.encode, t)\n\
             local s = cjson.decode(string.rep('{\"a\":', 1500) .. '1' .. string.rep('}', 1500))\n\
             return tostring(ok1) .. ' ' .. e1:match('^Found too many nested data structures') .. ' '\n\
               .. tostring(ok2) .. ' ' .. e2:match('^Cannot serialise, excessive nesting') .. ' ' .. type(s.a.a)"
        ),
        "false Found too many nested data structures false Cannot serialise, excessive nesting table"
    );
}

#[test]
fn decode_array_with_array_mt_option() {
    assert_eq!(
        eval(
            "local a = cjson.decode_array_with_array_mt()\n\
             local t1 = cjson.decode('[]')\n\
             local b = cjson.decode_array_with_array_mt(true)\n\
             local t2 = cjson.decode('{\"list\":[],\"obj\":{},\"full\":[1,2]}')\n\
             return table.concat({tostring(a), tostring(b), tostring(getmetatable(t1)),\n\
               tostring(getmetatable(t2.list) == cjson.array_mt), tostring(getmetatable(t2.obj)),\n\
               tostring(getmetatable(t2.full) == cjson.array_mt), cjson.encode(t2.list),\n\
               cjson.encode(cjson.decode('[]'))}, ' ')"
        ),
        "false true nil true nil true [] []"
    );
}

// ---------------------------------------------------------------- round trips

#[test]
fn round_trips() {
    for json in [
        r#"[1,2,3]"#,
        r#"{"a":"b"}"#,
        r#"[{"k":[true,false,null]},"s",-1.5,1e+300,[]]"#,
        r#""\u0001\"\\\/\b\f\n\r\t""#,
        r#"[[[[[[[[[[1]]]]]]]]]]"#,
        r#"["\u00e9"]"#,
    ] {
        // \u00e9 re-encodes as raw UTF-8, so compare decoded forms too.
        let lit = json.replace('\\', "\\\\").replace('\'', "\\'");
        let out = eval(&format!(
            "local s = '{lit}'\n\
             local once = cjson.encode(cjson.decode(s))\n\
             local twice = cjson.encode(cjson.decode(once))\n\
             assert(once == twice, once .. ' vs ' .. twice)\n\
             return once"
        ));
        if json.contains("\\u00e9") {
            assert_eq!(out, "[\"é\"]");
        } else if json.starts_with("[{") {
            assert_eq!(out, r#"[{"k":[true,false,null]},"s",-1.5,1e+300,{}]"#);
        } else {
            assert_eq!(out, json);
        }
    }
}

// ---------------------------------------------------------------- cjson.safe

#[test]
fn safe_module_returns_errors() {
    assert_eq!(
        eval(
            "local r1, e1 = safe.decode('{')\n\
             local r2, e2 = safe.encode(function() end)\n\
             local r3, e3 = safe.decode('[1,2]')\n\
             local r4, e4 = safe.encode({1})\n\
             local n = select('#', safe.decode('1'))\n\
             local r5, e5 = safe.decode(nil)\n\
             return table.concat({tostring(r1), e1, tostring(r2), e2, tostring(#r3), tostring(e3),\n\
               r4, tostring(e4), tostring(n), tostring(r5), e5}, '|')"
        ),
        "nil|Expected object key string but found T_END at character 2|nil|Cannot serialise function: type not supported|2|nil|[1]|nil|1|nil|bad argument #1 to 'decode' (string expected, got nil)"
    );
    // Argument-count errors are still raised.
    assert_eq!(
        err("safe.encode()"),
        "bad argument #1 to 'encode' (expected 1 argument)"
    );
    assert_eq!(
        err("safe.decode('1', '2')"),
        "bad argument #1 to 'decode' (expected 1 argument)"
    );
    // Config functions raise in the safe module too.
    assert_eq!(
        err("safe.encode_max_depth(-1)"),
        "bad argument #1 to 'encode_max_depth' (expected integer between 1 and 2147483647)"
    );
    // safe.new() returns another safe instance.
    assert_eq!(
        eval("local s = safe.new() local r, e = s.decode('') return tostring(r) .. ' ' .. e"),
        "nil Expected value but found T_END at character 1"
    );
}

#[test]
fn errors_are_catchable_strings_with_no_position_prefix() {
    assert_eq!(
        eval(
            "local ok, e = pcall(cjson.decode, '[')\n\
             return tostring(ok) .. ' ' .. type(e) .. ' ' .. tostring(e:find('^Expected')) .. ' ' .. ('x: ' .. e)"
        ),
        "false string 1 x: Expected value but found T_END at character 2"
    );
}

#[test]
fn reentrant_use_from_gc_finalizer_is_safe() {
    // A __gc running during an allocation inside encode/decode may call back
    // into the same instance; it must neither panic nor corrupt the output.
    assert_eq!(
        eval(
            "local got = {}\n\
             for i = 1, 200 do\n\
               local u = newproxy(true)\n\
               getmetatable(u).__gc = function() got[#got+1] = cjson.encode({i}) .. cjson.decode('[1]')[1] end\n\
             end\n\
             local big = {}\n\
             for i = 1, 2000 do big[i] = {name = 'n' .. i, list = {i, i + 1}} end\n\
             for i = 1, 20 do\n\
               local s = cjson.encode(big)\n\
               local t = cjson.decode(s)\n\
               assert(#t == 2000 and t[2000].name == 'n2000')\n\
             end\n\
             collectgarbage()\n\
             return 'ok'"
        ),
        "ok"
    );
}

// ---------------------------------------------------------------- raw C API paths

#[test]
fn nesting_at_the_hard_limit_uses_the_lua_stack_safely() {
    // 2000 levels is the ceiling (HARD_DEPTH_LIMIT): objects hold two Lua
    // stack slots per level while encoding; both directions must work right
    // up to it and fail cleanly just past it.
    assert_eq!(
        eval(
            "cjson.encode_max_depth(5000)\n\
             cjson.decode_max_depth(5000)\n\
             local t = 1\n\
             for i = 1, 2000 do t = (i % 2 == 0) and {k = t, [true and 'z' or 0] = 'v'} or {t, 'x'} end\n\
             local s = cjson.encode(t)\n\
             local back = cjson.decode(s)\n\
             local d = 0\n\
             while type(back) == 'table' do d = d + 1 back = back.k or back[1] end\n\
             local deeper = {t}\n\
             local ok, e = pcall(cjson.encode, deeper)\n\
             local ok2, e2 = pcall(cjson.decode, '[' .. s .. ']')\n\
             return d .. ' ' .. tostring(back) .. ' ' .. tostring(ok) .. ' ' .. e .. ' ' .. tostring(ok2) .. ' ' .. e2:match('^[^(]*%(%d+%)')"
        ),
        "2000 1 false Cannot serialise, excessive nesting (2001) false Found too many nested data structures (2001)"
    );
}

#[test]
fn numeric_keys_survive_the_object_walk() {
    // Number keys are formatted from lua_tonumber, never converted in place
    // (which would break lua_next): every entry must come out exactly once.
    assert_eq!(
        eval(
            "local t = {}\n\
             for i = 1, 60 do t[i + 0.5] = i t['k' .. i] = -i t[-i] = i end\n\
             local back = cjson.decode(cjson.encode(t))\n\
             local n, ok = 0, true\n\
             for k, v in pairs(back) do\n\
               n = n + 1\n\
               ok = ok and type(k) == 'string' and t[tonumber(k) or k] == v\n\
             end\n\
             return n .. ' ' .. tostring(ok)"
        ),
        "180 true"
    );
}

#[test]
fn object_classification_edge_cases() {
    // A non-index key after index keys, with empty_array_mt: "[]" (as in the
    // C module); with the first key a non-index one: the same.
    assert_eq!(
        enc("setmetatable({1, 2, a = 1}, cjson.empty_array_mt)"),
        "[]"
    );
    assert_eq!(enc("setmetatable({b = 2}, cjson.empty_array_mt)"), "[]");
    // Skipped first members do not leave stray commas.
    assert_eq!(
        eval(
            "cjson.encode_skip_unsupported_value_types(true)\n\
             local s = cjson.encode({f = print, g = print})\n\
             local one = cjson.encode({f = print, a = 1})\n\
             return s .. ' ' .. one"
        ),
        r#"{} {"a":1}"#
    );
}

#[test]
fn codec_functions_outlive_their_module_table() {
    // encode/decode keep their instance (settings included) alive through
    // their upvalue; dropping module tables and collecting must be safe.
    assert_eq!(
        eval(
            "local e, d\n\
             do\n\
               local m = cjson.new()\n\
               m.encode_number_precision(3)\n\
               e, d = m.encode, m.decode\n\
             end\n\
             for i = 1, 50 do local x = cjson.new() x.encode({i}) end\n\
             collectgarbage() collectgarbage()\n\
             return e({1/3}) .. ' ' .. tostring(d('[2]')[1]) .. ' ' .. cjson.encode(1/3)"
        ),
        "[0.333] 2 0.33333333333333"
    );
}

#[test]
fn errors_leave_the_caller_stack_intact() {
    // Failing deep inside a document (many values on the C stack) must not
    // disturb the caller: locals, varargs and further calls stay correct.
    assert_eq!(
        eval(
            "local function f(...)\n\
               local t = {} for i = 1, 500 do t = {a = t, b = {1, 2, 3}} end\n\
               t = {x = t, y = print}\n\
               local r1, e1 = safe.encode({t, t})\n\
               local r2, e2 = safe.decode(string.rep('{\"a\":[1,', 300))\n\
               local ok, e3 = pcall(cjson.encode, {n = 0/0})\n\
               local a, b = ...\n\
               return select('#', ...), a, b, tostring(r1), e1, tostring(r2), e2, e3\n\
             end\n\
             return table.concat({f('p', 'q')}, '|')"
        ),
        "2|p|q|nil|Cannot serialise function: type not supported|nil|Expected value but found T_END at character 2401|Cannot serialise number: must not be NaN or Infinity"
    );
}

#[test]
fn decode_accepts_embedded_results_of_every_type() {
    assert_eq!(
        eval(
            "local t = cjson.decode('[\"s\", 1.5, true, false, null, {}, [], {\"k\":[null]}]')\n\
             local out = {}\n\
             for i = 1, 8 do out[i] = type(t[i]) end\n\
             return table.concat(out, ',') .. ' ' .. tostring(t[8].k[1] == cjson.null)"
        ),
        "string,number,boolean,boolean,userdata,table,table,table true"
    );
}
