//! `cjson` / `cjson.safe` for mlua (LuaJIT), behaving like OpenResty's
//! lua-cjson 2.1.0.x: same module contents, configuration functions, output
//! bytes and error messages.
//!
//! Errors are raised as plain Lua strings (not mlua error userdata) because
//! Lua code commonly inspects them (`err:find(...)`, concatenation). To do
//! that the Rust callbacks return `nil, message` and a tiny Lua wrapper turns
//! that into `error(message, 0)`.
//!
//! Intentional differences from the C module:
//! - a light userdata other than `cjson.null` / `cjson.empty_array` is an
//!   unsupported value (the C module silently writes nothing, producing
//!   invalid JSON);
//! - `encode_escape_forward_slash` is per instance (the C module flips a
//!   process-wide table, leaking the setting into every instance);
//! - nesting deeper than 2000 levels is refused whatever the configured
//!   maximum (see `HARD_DEPTH_LIMIT`).
//!
//! Also provided, as in later 2.1.0.x releases:
//! `encode_skip_unsupported_value_types`.

use std::cell::Cell;
use std::ffi::c_void;
use std::rc::Rc;

use mlua::{Function, LightUserData, Lua, MultiValue, Table, Value};

mod decode;
mod encode;
mod number;

use decode::{DecodeError, Decoder, Scratch};
use encode::{lua_type_name, Encoder};

const MODULE_NAME: &str = "cjson";
const MODULE_VERSION: &str = "2.1.0.10";

/// Nesting beyond this is refused even when `encode_max_depth` /
/// `decode_max_depth` allow more: every open level pins mlua references on
/// an auxiliary LuaJIT stack that holds at most ~8000 slots, and exhausting
/// it panics. The C module has a similar ceiling (its lua_checkstack calls
/// fail) and reports it with the same messages.
pub(crate) const HARD_DEPTH_LIMIT: u32 = 2000;

/// Reusable buffers larger than this (after an unusually large document) are
/// freed instead of being kept for the next call.
const MAX_RETAINED_BUFFER: usize = 1 << 20;

const REG_ARRAY_MT: &str = "moonwire.cjson.array_mt";
const REG_EMPTY_ARRAY_MT: &str = "moonwire.cjson.empty_array_mt";
const REG_WRAPPERS: &str = "moonwire.cjson.wrappers";
const REG_NEXT: &str = "moonwire.cjson.next";

/// Its address is the identity of `cjson.empty_array`: a process-wide,
/// non-NULL light userdata that every module instance shares.
static EMPTY_ARRAY_ANCHOR: u8 = 0;

pub(crate) fn empty_array_ptr() -> LightUserData {
    // LuaJIT only accepts 47-bit light userdata; lua-cjson masks the same way.
    let addr = std::ptr::addr_of!(EMPTY_ARRAY_ANCHOR) as usize & ((1usize << 47) - 1);
    LightUserData(std::ptr::without_provenance_mut::<c_void>(addr))
}

fn null_value() -> Value {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum InvalidNumbers {
    Off,
    On,
    Null,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Config {
    pub encode_sparse_convert: bool,
    pub encode_sparse_ratio: i32,
    pub encode_sparse_safe: i32,
    pub encode_max_depth: u32,
    pub decode_max_depth: u32,
    pub encode_invalid_numbers: InvalidNumbers,
    pub decode_invalid_numbers: bool,
    pub encode_keep_buffer: bool,
    pub encode_number_precision: u8,
    pub encode_empty_table_as_object: bool,
    pub decode_array_with_array_mt: bool,
    pub encode_escape_forward_slash: bool,
    pub encode_skip_unsupported_value_types: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            encode_sparse_convert: false,
            encode_sparse_ratio: 2,
            encode_sparse_safe: 10,
            encode_max_depth: 1000,
            decode_max_depth: 1000,
            encode_invalid_numbers: InvalidNumbers::Off,
            decode_invalid_numbers: true,
            encode_keep_buffer: true,
            encode_number_precision: 14,
            encode_empty_table_as_object: true,
            decode_array_with_array_mt: false,
            encode_escape_forward_slash: true,
            encode_skip_unsupported_value_types: false,
        }
    }
}

/// Per-Lua-state objects shared by every module instance.
pub(crate) struct Shared {
    /// The global `next` (raw in Lua 5.1), captured when the first module
    /// of the state is built.
    pub next: Function,
    array_mt: Table,
    empty_array_mt: Table,
    pub array_mt_ptr: *const c_void,
    pub empty_array_mt_ptr: *const c_void,
}

/// One `cjson` module table's state (`cjson.new()` makes another).
struct Instance {
    cfg: Cell<Config>,
    shared: Shared,
    // Buffers are taken out while in use and put back afterwards, so a
    // re-entrant call (a __gc finalizer running during an allocation) simply
    // starts with fresh ones instead of hitting a borrow conflict.
    encode_buf: Cell<Vec<u8>>,
    scratch: Cell<Option<Box<Scratch>>>,
}

impl Instance {
    fn update(&self, f: impl FnOnce(&mut Config)) {
        let mut c = self.cfg.get();
        f(&mut c);
        self.cfg.set(c);
    }
}

fn registry_table(lua: &Lua, key: &str) -> mlua::Result<Table> {
    if let Some(t) = lua.named_registry_value::<Option<Table>>(key)? {
        return Ok(t);
    }
    let t = lua.create_table()?;
    lua.set_named_registry_value(key, &t)?;
    Ok(t)
}

fn shared(lua: &Lua) -> mlua::Result<Shared> {
    let array_mt = registry_table(lua, REG_ARRAY_MT)?;
    let empty_array_mt = registry_table(lua, REG_EMPTY_ARRAY_MT)?;
    let next = match lua.named_registry_value::<Option<Function>>(REG_NEXT)? {
        Some(f) => f,
        None => {
            let f: Function = lua.globals().raw_get("next")?;
            lua.set_named_registry_value(REG_NEXT, &f)?;
            f
        }
    };
    Ok(Shared {
        next,
        array_mt_ptr: array_mt.to_pointer(),
        empty_array_mt_ptr: empty_array_mt.to_pointer(),
        array_mt,
        empty_array_mt,
    })
}

/// Lua-side adapters turning `nil, msg` results into raised string errors.
const WRAPPERS_LUA: &str = r#"
local error, select = error, select
local wrappers = {}
-- encode/decode: exactly one argument (checked here, as lua-cjson does even
-- in cjson.safe); conversion errors raised, or returned by cjson.safe
function wrappers.convert(raw, name, safe)
  local usage = "bad argument #1 to '" .. name .. "' (expected 1 argument)"
  if safe then
    return function(...)
      if select('#', ...) ~= 1 then error(usage, 0) end
      local r, e = raw(...)
      if r == nil then return nil, e end
      return r
    end
  end
  return function(...)
    if select('#', ...) ~= 1 then error(usage, 0) end
    local r, e = raw(...)
    if r == nil then error(e, 0) end
    return r
  end
end
-- configuration functions returning one value
function wrappers.config(raw)
  return function(...)
    local r, e = raw(...)
    if r == nil then error(e, 0) end
    return r
  end
end
-- encode_sparse_array: three results
function wrappers.triple(raw)
  return function(...)
    local a, b, c = raw(...)
    if a == nil then error(b, 0) end
    return a, b, c
  end
end
return wrappers
"#;

struct Wrappers {
    convert: Function,
    config: Function,
    triple: Function,
}

fn wrappers(lua: &Lua) -> mlua::Result<Wrappers> {
    let t = match lua.named_registry_value::<Option<Table>>(REG_WRAPPERS)? {
        Some(t) => t,
        None => {
            let t: Table = lua.load(WRAPPERS_LUA).set_name("=cjson").call(())?;
            lua.set_named_registry_value(REG_WRAPPERS, &t)?;
            t
        }
    };
    Ok(Wrappers {
        convert: t.raw_get("convert")?,
        config: t.raw_get("config")?,
        triple: t.raw_get("triple")?,
    })
}

/// A raw callback's result: the Lua wrappers raise (or, for cjson.safe
/// conversions, return) the message of an `Err`.
type Outcome = Result<Value, String>;

fn outcome_to_lua(lua: &Lua, o: Outcome) -> mlua::Result<(Value, Value)> {
    Ok(match o {
        Ok(v) => (v, Value::Nil),
        Err(m) => (Value::Nil, Value::String(lua.create_string(m)?)),
    })
}

fn bad_argument(n: usize, func: &str, msg: &str) -> String {
    format!("bad argument #{n} to '{func}' ({msg})")
}

fn do_encode(lua: &Lua, inst: &Instance, value: Value) -> mlua::Result<Outcome> {
    let cfg = inst.cfg.get();
    let mut buf = inst.encode_buf.take();
    buf.clear();
    let mut enc = Encoder::new(buf, cfg, &inst.shared);
    let res = enc.encode(&value);
    let buf = enc.out;
    let out = match res {
        Ok(()) => Ok(Value::String(lua.create_string(&buf)?)),
        Err(e) => Err(e.message()),
    };
    if cfg.encode_keep_buffer && buf.capacity() <= MAX_RETAINED_BUFFER {
        inst.encode_buf.set(buf);
    }
    Ok(out)
}

fn do_decode(lua: &Lua, inst: &Instance, arg: Value) -> mlua::Result<Outcome> {
    // luaL_checklstring semantics: numbers are accepted via tostring().
    let mut numtext = Vec::new();
    let text = match &arg {
        Value::String(s) => Some(s.as_bytes()),
        _ => None,
    };
    let src: &[u8] = match (&arg, &text) {
        (_, Some(b)) => b,
        (Value::Integer(i), None) => {
            number::format_g(&mut numtext, *i as f64, 14);
            &numtext
        }
        (Value::Number(n), None) => {
            fmt_lua_number(&mut numtext, *n);
            &numtext
        }
        (other, None) => {
            return Ok(Err(bad_argument(
                1,
                "decode",
                &format!("string expected, got {}", lua_type_name(other)),
            )))
        }
    };
    let cfg = inst.cfg.get();
    let mut scratch = inst.scratch.take().unwrap_or_default();
    let array_mt = cfg
        .decode_array_with_array_mt
        .then_some(&inst.shared.array_mt);
    let res = Decoder::new(lua, src, cfg, array_mt, &mut scratch).decode();
    // After an error the buffers may still pin Lua values; drop them now
    // rather than at the next call.
    if scratch.release() <= MAX_RETAINED_BUFFER {
        inst.scratch.set(Some(scratch));
    }
    Ok(match res {
        Ok(v) => Ok(v),
        Err(DecodeError::Lua(e)) => return Err(e),
        Err(e) => Err(e.into_message()),
    })
}

/// Lua 5.1's number-to-string conversion (`%.14g`, with LuaJIT's spelling of
/// the non-finite values).
fn fmt_lua_number(out: &mut Vec<u8>, n: f64) {
    if n.is_nan() {
        out.extend_from_slice(b"nan");
    } else if n.is_infinite() {
        out.extend_from_slice(if n > 0.0 { b"inf" } else { b"-inf" });
    } else {
        number::format_g(out, n, 14);
    }
}

// ===== configuration functions =====

fn arg(args: &MultiValue, i: usize) -> &Value {
    args.get(i).unwrap_or(&Value::Nil)
}

fn check_arg_count(args: &MultiValue, max: usize, func: &str) -> Result<(), String> {
    if args.len() > max {
        return Err(bad_argument(max + 1, func, "found too many arguments"));
    }
    Ok(())
}

/// luaL_checkinteger: numbers and numeric strings, truncated toward zero.
fn check_integer(v: &Value, argn: usize, func: &str) -> Result<i64, String> {
    let n = match v {
        Value::Integer(i) => return Ok(*i),
        Value::Number(n) => Some(*n),
        Value::String(s) => parse_lua_number(&s.as_bytes()),
        _ => None,
    };
    match n {
        Some(n) if !n.is_nan() => Ok(n.trunc().clamp(i64::MIN as f64, i64::MAX as f64) as i64),
        Some(_) => Ok(0),
        None => Err(bad_argument(
            argn,
            func,
            &format!("number expected, got {}", lua_type_name(v)),
        )),
    }
}

/// Lua's string->number coercion (decimal or hex, surrounding whitespace).
fn parse_lua_number(s: &[u8]) -> Option<f64> {
    let is_space = |c: &u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c);
    let start = s.iter().position(|c| !is_space(c))?;
    let end = s.iter().rposition(|c| !is_space(c))? + 1;
    let (v, n) = number::strtod(&s[start..end])?;
    (n == end - start).then_some(v)
}

fn integer_option(
    args: &MultiValue,
    i: usize,
    setting: &mut i64,
    min: i64,
    max: i64,
    func: &str,
) -> Result<(), String> {
    let v = arg(args, i);
    if v.is_nil() {
        return Ok(());
    }
    let value = check_integer(v, i + 1, func)?;
    if value < min || value > max {
        // lua-cjson always blames argument #1 for range errors.
        return Err(bad_argument(
            1,
            func,
            &format!("expected integer between {min} and {max}"),
        ));
    }
    *setting = value;
    Ok(())
}

/// luaL_checkoption over `options`, with booleans mapping to 0/1.
fn enum_option(
    args: &MultiValue,
    i: usize,
    setting: &mut usize,
    options: &[&str],
    func: &str,
) -> Result<(), String> {
    let v = arg(args, i);
    match v {
        Value::Nil => Ok(()),
        Value::Boolean(b) => {
            *setting = usize::from(*b);
            Ok(())
        }
        Value::String(s) => {
            let bytes = s.as_bytes();
            match options.iter().position(|o| o.as_bytes() == &bytes[..]) {
                Some(idx) => {
                    *setting = idx;
                    Ok(())
                }
                None => Err(bad_argument(
                    i + 1,
                    func,
                    &format!("invalid option '{}'", String::from_utf8_lossy(&bytes)),
                )),
            }
        }
        Value::Integer(_) | Value::Number(_) => {
            let mut text = Vec::new();
            match v {
                Value::Integer(n) => number::format_g(&mut text, *n as f64, 14),
                Value::Number(n) => fmt_lua_number(&mut text, *n),
                _ => {}
            }
            Err(bad_argument(
                i + 1,
                func,
                &format!("invalid option '{}'", String::from_utf8_lossy(&text)),
            ))
        }
        other => Err(bad_argument(
            i + 1,
            func,
            &format!("string expected, got {}", lua_type_name(other)),
        )),
    }
}

fn enum_result(lua: &Lua, setting: usize, options: &[&str]) -> mlua::Result<Value> {
    Ok(match setting {
        0 => Value::Boolean(false),
        1 => Value::Boolean(true),
        n => Value::String(lua.create_string(options[n])?),
    })
}

const BOOL_OPTIONS: &[&str] = &["off", "on"];
const INVALID_NUMBER_OPTIONS: &[&str] = &["off", "on", "null"];

type BoolField = fn(&mut Config) -> &mut bool;

/// Implements a boolean get/set option function.
fn bool_config(
    lua: &Lua,
    inst: &Instance,
    args: &MultiValue,
    func: &str,
    field: BoolField,
) -> mlua::Result<Outcome> {
    let mut cfg = inst.cfg.get();
    let mut setting = usize::from(*field(&mut cfg));
    let res = check_arg_count(args, 1, func)
        .and_then(|_| enum_option(args, 0, &mut setting, BOOL_OPTIONS, func));
    if let Err(m) = res {
        return Ok(Err(m));
    }
    inst.update(|c| *field(c) = setting == 1);
    Ok(Ok(enum_result(lua, setting, BOOL_OPTIONS)?))
}

/// Implements an integer get/set option function.
fn int_config(
    inst: &Instance,
    args: &MultiValue,
    func: &str,
    min: i64,
    max: i64,
    get: fn(&Config) -> i64,
    set: fn(&mut Config, i64),
) -> Outcome {
    let mut value = get(&inst.cfg.get());
    check_arg_count(args, 1, func)?;
    integer_option(args, 0, &mut value, min, max, func)?;
    inst.update(|c| set(c, value));
    Ok(Value::Number(value as f64))
}

fn encode_invalid_numbers(lua: &Lua, inst: &Instance, args: &MultiValue) -> mlua::Result<Outcome> {
    const F: &str = "encode_invalid_numbers";
    let mut setting = match inst.cfg.get().encode_invalid_numbers {
        InvalidNumbers::Off => 0,
        InvalidNumbers::On => 1,
        InvalidNumbers::Null => 2,
    };
    let res = check_arg_count(args, 1, F)
        .and_then(|_| enum_option(args, 0, &mut setting, INVALID_NUMBER_OPTIONS, F));
    if let Err(m) = res {
        return Ok(Err(m));
    }
    inst.update(|c| {
        c.encode_invalid_numbers = match setting {
            0 => InvalidNumbers::Off,
            1 => InvalidNumbers::On,
            _ => InvalidNumbers::Null,
        }
    });
    Ok(Outcome::Ok(enum_result(
        lua,
        setting,
        INVALID_NUMBER_OPTIONS,
    )?))
}

fn encode_sparse_array(
    lua: &Lua,
    inst: &Instance,
    args: &MultiValue,
) -> mlua::Result<(Value, Value, Value)> {
    const F: &str = "encode_sparse_array";
    let cfg = inst.cfg.get();
    let mut convert = usize::from(cfg.encode_sparse_convert);
    let mut ratio = i64::from(cfg.encode_sparse_ratio);
    let mut safe = i64::from(cfg.encode_sparse_safe);
    let max = i64::from(i32::MAX);
    let res = check_arg_count(args, 3, F)
        .and_then(|_| enum_option(args, 0, &mut convert, BOOL_OPTIONS, F))
        .and_then(|_| integer_option(args, 1, &mut ratio, 0, max, F))
        .and_then(|_| integer_option(args, 2, &mut safe, 0, max, F));
    // Like the C module, options processed before a failing one stay set.
    let ratio_ok = i32::try_from(ratio).unwrap_or(cfg.encode_sparse_ratio);
    let safe_ok = i32::try_from(safe).unwrap_or(cfg.encode_sparse_safe);
    inst.update(|c| {
        c.encode_sparse_convert = convert == 1;
        c.encode_sparse_ratio = ratio_ok;
        c.encode_sparse_safe = safe_ok;
    });
    if let Err(m) = res {
        return Ok((Value::Nil, Value::String(lua.create_string(m)?), Value::Nil));
    }
    Ok((
        Value::Boolean(convert == 1),
        Value::Number(ratio as f64),
        Value::Number(safe as f64),
    ))
}

// ===== module construction =====

fn build(lua: &Lua, safe: bool) -> mlua::Result<Table> {
    let w = wrappers(lua)?;
    let inst = Rc::new(Instance {
        cfg: Cell::new(Config::default()),
        shared: shared(lua)?,
        encode_buf: Cell::new(Vec::new()),
        scratch: Cell::new(None),
    });
    let m = lua.create_table_with_capacity(0, 24)?;

    let i = inst.clone();
    let raw = lua.create_function(move |lua, v: Value| {
        let o = do_encode(lua, &i, v)?;
        outcome_to_lua(lua, o)
    })?;
    m.raw_set("encode", w.convert.call::<Function>((raw, "encode", safe))?)?;
    let i = inst.clone();
    let raw = lua.create_function(move |lua, v: Value| {
        let o = do_decode(lua, &i, v)?;
        outcome_to_lua(lua, o)
    })?;
    m.raw_set("decode", w.convert.call::<Function>((raw, "decode", safe))?)?;

    let strict = |name: &str, raw: Function| -> mlua::Result<()> {
        m.raw_set(name, w.config.call::<Function>(raw)?)
    };

    let bool_fields: [(&'static str, BoolField); 5] = [
        ("encode_empty_table_as_object", |c| {
            &mut c.encode_empty_table_as_object
        }),
        ("decode_array_with_array_mt", |c| {
            &mut c.decode_array_with_array_mt
        }),
        ("encode_escape_forward_slash", |c| {
            &mut c.encode_escape_forward_slash
        }),
        ("encode_skip_unsupported_value_types", |c| {
            &mut c.encode_skip_unsupported_value_types
        }),
        ("decode_invalid_numbers", |c| &mut c.decode_invalid_numbers),
    ];
    for (name, field) in bool_fields {
        let i = inst.clone();
        strict(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let o = bool_config(lua, &i, &args, name, field)?;
                outcome_to_lua(lua, o)
            })?,
        )?;
    }

    let i = inst.clone();
    strict(
        "encode_keep_buffer",
        lua.create_function(move |lua, args: MultiValue| {
            let o = bool_config(lua, &i, &args, "encode_keep_buffer", |c| {
                &mut c.encode_keep_buffer
            })?;
            if !i.cfg.get().encode_keep_buffer {
                i.encode_buf.take();
            }
            outcome_to_lua(lua, o)
        })?,
    )?;

    let i = inst.clone();
    strict(
        "encode_invalid_numbers",
        lua.create_function(move |lua, args: MultiValue| {
            let o = encode_invalid_numbers(lua, &i, &args)?;
            outcome_to_lua(lua, o)
        })?,
    )?;

    type IntOpt = (
        &'static str,
        i64,
        i64,
        fn(&Config) -> i64,
        fn(&mut Config, i64),
    );
    let int_fields: [IntOpt; 3] = [
        (
            "encode_max_depth",
            1,
            i64::from(i32::MAX),
            |c| i64::from(c.encode_max_depth),
            |c, v| c.encode_max_depth = v as u32,
        ),
        (
            "decode_max_depth",
            1,
            i64::from(i32::MAX),
            |c| i64::from(c.decode_max_depth),
            |c, v| c.decode_max_depth = v as u32,
        ),
        (
            "encode_number_precision",
            1,
            16,
            |c| i64::from(c.encode_number_precision),
            |c, v| c.encode_number_precision = v as u8,
        ),
    ];
    for (name, min, max, get, set) in int_fields {
        let i = inst.clone();
        strict(
            name,
            lua.create_function(move |lua, args: MultiValue| {
                let o = int_config(&i, &args, name, min, max, get, set);
                outcome_to_lua(lua, o)
            })?,
        )?;
    }

    let i = inst.clone();
    m.raw_set(
        "encode_sparse_array",
        w.triple.call::<Function>(
            lua.create_function(move |lua, args: MultiValue| encode_sparse_array(lua, &i, &args))?,
        )?,
    )?;

    m.raw_set("new", lua.create_function(move |lua, ()| build(lua, safe))?)?;
    m.raw_set("null", null_value())?;
    m.raw_set("empty_array", Value::LightUserData(empty_array_ptr()))?;
    m.raw_set("array_mt", &inst.shared.array_mt)?;
    m.raw_set("empty_array_mt", &inst.shared.empty_array_mt)?;
    m.raw_set("_NAME", MODULE_NAME)?;
    m.raw_set("_VERSION", MODULE_VERSION)?;
    Ok(m)
}

/// Build the `cjson` module table (errors raise Lua errors).
pub fn module(lua: &Lua) -> mlua::Result<Table> {
    build(lua, false)
}

/// Build the `cjson.safe` module table (encode/decode return nil, err instead of raising).
pub fn safe_module(lua: &Lua) -> mlua::Result<Table> {
    build(lua, true)
}

/// Register both in package.preload as "cjson" and "cjson.safe".
pub fn preload(lua: &Lua) -> mlua::Result<()> {
    let package: Table = lua.globals().get("package")?;
    let preload: Table = package.get("preload")?;
    preload.set(
        "cjson",
        lua.create_function(|lua, _: MultiValue| module(lua))?,
    )?;
    preload.set(
        "cjson.safe",
        lua.create_function(|lua, _: MultiValue| safe_module(lua))?,
    )?;
    Ok(())
}
