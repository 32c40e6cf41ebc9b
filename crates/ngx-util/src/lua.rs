//! Lua bindings: `ngx.*` string/time functions and the `ngx.base64` module.

use mlua::{Lua, LuaString, MultiValue, Table, Value};

use crate::args::{parse_args, Arg, ArgValue};
use crate::codec;
use crate::escape::{self, EscapeKind};
use crate::time;

/// Lua's name for a value's type (`type()` / `luaL_typename`), which differs from
/// `Value::type_name` for light userdata and cdata.
pub fn lua_type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::LightUserData(_) | Value::UserData(_) | Value::Error(_) => "userdata",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        // LuaJIT's only extra type.
        _ => "cdata",
    }
}

fn nginx_error(msg: String) -> mlua::Error {
    mlua::Error::RuntimeError(msg)
}

/// What `lua_tolstring` yields for a query arg value: strings as they are, numbers in
/// Lua's own spelling (`%.14g`); every other type is an error.
fn arg_value_text(lua: &Lua, v: Value) -> mlua::Result<LuaString> {
    let type_name = lua_type_name(&v);
    let text = match v {
        Value::String(s) => Some(s),
        Value::Integer(_) | Value::Number(_) => lua.coerce_string(v)?,
        _ => None,
    };
    text.ok_or_else(|| nginx_error(format!("attempt to use {type_name} as query arg value")))
}

/// The query string `ngx.encode_args(tbl)` builds (also what `ngx.req.set_uri_args` and
/// the `args` option of subrequests use). Keys must be strings; string and number values
/// give `k=v`, `true` gives a bare `k`, `false` is omitted, and a table value repeats the
/// key for each of its entries (with the same boolean rules). Keys and values are escaped
/// as URI components. Pairs come in `next()` order, like OpenResty.
///
/// Misuse yields `Error::RuntimeError` carrying OpenResty's message
/// (`attempt to use a non-string key in the "args" option table`,
/// `attempt to use <type> as query arg value`).
pub fn encode_args(lua: &Lua, tbl: &Table) -> mlua::Result<Vec<u8>> {
    let mut out = Vec::new();
    // Separators go between items even when an item is empty (`[""] = true`), exactly
    // as OpenResty joins them, so count items rather than looking at `out`.
    let mut items = 0usize;
    let mut push = |key: &[u8], value: Option<&[u8]>| {
        if items > 0 {
            out.push(b'&');
        }
        items += 1;
        escape::escape_uri_into(&mut out, key, EscapeKind::UriComponent);
        if let Some(v) = value {
            out.push(b'=');
            escape::escape_uri_into(&mut out, v, EscapeKind::UriComponent);
        }
    };

    for pair in tbl.pairs::<Value, Value>() {
        let (k, v) = pair?;
        let Value::String(key) = k else {
            return Err(nginx_error(
                "attempt to use a non-string key in the \"args\" option table".to_owned(),
            ));
        };
        let key = key.as_bytes();
        match v {
            Value::Boolean(true) => push(&key, None),
            Value::Boolean(false) => {}
            Value::Table(list) => {
                for item in list.pairs::<Value, Value>() {
                    match item?.1 {
                        Value::Boolean(true) => push(&key, None),
                        Value::Boolean(false) => {}
                        other => push(&key, Some(&arg_value_text(lua, other)?.as_bytes())),
                    }
                }
            }
            other => push(&key, Some(&arg_value_text(lua, other)?.as_bytes())),
        }
    }
    Ok(out)
}

/// Builds the table `ngx.decode_args` / `ngx.req.get_uri_args` return: a key seen once
/// maps to its value, a repeated key to an array of its values in order, and a key
/// without `=` to `true`.
pub fn args_to_table(lua: &Lua, args: &[Arg]) -> mlua::Result<Table> {
    let tbl = lua.create_table_with_capacity(0, args.len())?;
    for (key, value) in args {
        let key = lua.create_string(key)?;
        let value = match value {
            ArgValue::Bool(b) => Value::Boolean(*b),
            ArgValue::Str(s) => Value::String(lua.create_string(s)?),
        };
        match tbl.raw_get::<Value>(&key)? {
            Value::Nil => tbl.raw_set(key, value)?,
            Value::Table(list) => list.raw_push(value)?,
            first => {
                let list = lua.create_sequence_from([first, value])?;
                tbl.raw_set(key, list)?;
            }
        }
    }
    Ok(tbl)
}

/// Truncation toward zero, as the C side converts a Lua number to `long`/`int`.
fn lua_number_to_i64(n: f64) -> i64 {
    n as i64
}

/// The Rust halves of the functions defined in `ngx_api.lua`; arguments arrive checked.
fn raw_table(lua: &Lua) -> mlua::Result<Table> {
    let raw = lua.create_table()?;

    // Name and kind ("field", "local", "method", ...) under which the wrapper calling
    // `arg_error` was invoked. Stack levels: 0 is this function, 1 `arg_error`, 2 the
    // wrapper.
    raw.set(
        "callee_name",
        lua.create_function(|lua, ()| {
            let names = lua
                .inspect_stack(2, |d| {
                    let n = d.names();
                    (n.name.map(|c| c.into_owned()), n.name_what)
                })
                .unwrap_or((None, None));
            Ok((names.0.unwrap_or_else(|| "?".to_owned()), names.1))
        })?,
    )?;

    raw.set(
        "escape_uri",
        lua.create_function(|lua, (s, kind): (LuaString, f64)| {
            let kind =
                EscapeKind::from_index(lua_number_to_i64(kind)).unwrap_or(EscapeKind::UriComponent);
            let bytes = s.as_bytes();
            if escape::escaped_len(&bytes, kind) == bytes.len() {
                // Nothing to escape: hand back the very same string.
                drop(bytes);
                return Ok(s);
            }
            lua.create_string(escape::escape_uri(&bytes, kind))
        })?,
    )?;
    raw.set(
        "unescape_uri",
        lua.create_function(|lua, s: LuaString| {
            lua.create_string(escape::unescape_uri(&s.as_bytes()))
        })?,
    )?;
    raw.set(
        "quote_sql_str",
        lua.create_function(|lua, s: LuaString| {
            lua.create_string(escape::quote_sql_str(&s.as_bytes()))
        })?,
    )?;
    raw.set(
        "md5",
        lua.create_function(|lua, s: LuaString| lua.create_string(codec::md5_hex(&s.as_bytes())))?,
    )?;
    raw.set(
        "md5_bin",
        lua.create_function(|lua, s: LuaString| lua.create_string(codec::md5_bin(&s.as_bytes())))?,
    )?;
    raw.set(
        "sha1_bin",
        lua.create_function(|lua, s: LuaString| lua.create_string(codec::sha1_bin(&s.as_bytes())))?,
    )?;
    raw.set(
        "hmac_sha1",
        lua.create_function(|lua, (k, s): (LuaString, LuaString)| {
            lua.create_string(codec::hmac_sha1(&k.as_bytes(), &s.as_bytes()))
        })?,
    )?;
    raw.set(
        "crc32_short",
        lua.create_function(|_, s: LuaString| Ok(codec::crc32_short(&s.as_bytes())))?,
    )?;
    raw.set(
        "crc32_long",
        lua.create_function(|_, s: LuaString| Ok(codec::crc32_long(&s.as_bytes())))?,
    )?;
    raw.set(
        "encode_base64",
        lua.create_function(|lua, (s, no_padding): (LuaString, bool)| {
            lua.create_string(codec::encode_base64(&s.as_bytes(), no_padding))
        })?,
    )?;
    raw.set(
        "decode_base64",
        lua.create_function(|lua, s: LuaString| {
            codec::decode_base64(&s.as_bytes())
                .map(|d| lua.create_string(d))
                .transpose()
        })?,
    )?;
    raw.set(
        "decode_base64mime",
        lua.create_function(|lua, s: LuaString| {
            codec::decode_base64mime(&s.as_bytes())
                .map(|d| lua.create_string(d))
                .transpose()
        })?,
    )?;
    raw.set(
        "http_time",
        lua.create_function(|_, sec: f64| Ok(time::http_time(lua_number_to_i64(sec))))?,
    )?;
    raw.set(
        "cookie_time",
        lua.create_function(|_, sec: f64| Ok(time::cookie_time(lua_number_to_i64(sec))))?,
    )?;
    raw.set(
        "parse_http_time",
        lua.create_function(|_, s: LuaString| Ok(time::parse_http_time(&s.as_bytes())))?,
    )?;
    raw.set(
        "encode_args",
        lua.create_function(|lua, tbl: Table| match encode_args(lua, &tbl) {
            Ok(bytes) => Ok((Some(lua.create_string(bytes)?), None)),
            Err(mlua::Error::RuntimeError(msg)) => Ok((None, Some(msg))),
            Err(e) => Err(e),
        })?,
    )?;
    raw.set(
        "decode_args",
        lua.create_function(|lua, (s, max): (LuaString, f64)| {
            // C semantics: any max <= 0 means no limit.
            let max = usize::try_from(lua_number_to_i64(max)).unwrap_or(0);
            let (args, truncated) = parse_args(&s.as_bytes(), max);
            let tbl = args_to_table(lua, &args)?;
            let mut ret = MultiValue::new();
            ret.push_back(Value::Table(tbl));
            if truncated {
                ret.push_back(Value::String(lua.create_string("truncated")?));
            }
            Ok(ret)
        })?,
    )?;
    Ok(raw)
}

/// Installs the request-independent `ngx.*` API on `ngx`:
/// `escape_uri`, `unescape_uri`, `encode_args`, `decode_args`, `encode_base64`,
/// `decode_base64`, `decode_base64mime`, `md5`, `md5_bin`, `sha1_bin`, `hmac_sha1`,
/// `crc32_short`, `crc32_long`, `quote_sql_str`, `time`, `now`, `today`, `update_time`,
/// `localtime`, `utctime`, `http_time`, `cookie_time`, `parse_http_time`.
///
/// The time functions read this thread's cached clock (see [`crate::time`]).
pub fn register(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    ngx.set("time", lua.create_function(|_, ()| Ok(time::time()))?)?;
    ngx.set("now", lua.create_function(|_, ()| Ok(time::now()))?)?;
    ngx.set(
        "update_time",
        lua.create_function(|_, ()| {
            time::update_time();
            Ok(())
        })?,
    )?;
    ngx.set("today", lua.create_function(|_, ()| Ok(time::today()))?)?;
    ngx.set(
        "localtime",
        lua.create_function(|_, ()| Ok(time::localtime()))?,
    )?;
    ngx.set("utctime", lua.create_function(|_, ()| Ok(time::utctime()))?)?;

    let raw = raw_table(lua)?;
    lua.load(include_str!("ngx_api.lua"))
        .set_name("=ngx_api")
        .call::<()>((raw, ngx.clone()))
}

/// The `ngx.base64` module (`require "ngx.base64"`): `encode_base64url(s)` and
/// `decode_base64url(s)`. Both return `nil, "must provide a string"` for non-strings;
/// decoding returns `nil, "invalid input"` on malformed data.
pub fn base64_module(lua: &Lua) -> mlua::Result<Table> {
    // Success returns one value and failure two, as the lua-resty-core module does.
    fn failure(lua: &Lua, msg: &str) -> mlua::Result<MultiValue> {
        Ok(MultiValue::from_iter([
            Value::Nil,
            Value::String(lua.create_string(msg)?),
        ]))
    }
    fn success(lua: &Lua, bytes: impl AsRef<[u8]>) -> mlua::Result<MultiValue> {
        Ok(MultiValue::from_iter([Value::String(
            lua.create_string(bytes)?,
        )]))
    }

    let m = lua.create_table()?;
    m.set(
        "encode_base64url",
        lua.create_function(|lua, s: Value| match s {
            Value::String(s) => success(lua, codec::encode_base64url(&s.as_bytes())),
            _ => failure(lua, "must provide a string"),
        })?,
    )?;
    m.set(
        "decode_base64url",
        lua.create_function(|lua, s: Value| match s {
            Value::String(s) => match codec::decode_base64url(&s.as_bytes()) {
                Some(d) => success(lua, d),
                None => failure(lua, "invalid input"),
            },
            _ => failure(lua, "must provide a string"),
        })?,
    )?;
    Ok(m)
}
