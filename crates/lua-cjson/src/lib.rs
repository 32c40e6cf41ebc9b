//! `cjson` / `cjson.safe` for mlua (LuaJIT), behaving like OpenResty's
//! lua-cjson 2.1.0.x: same module contents, configuration functions, output
//! bytes and error messages.
//!
//! `encode` and `decode` are plain Lua C functions working on the raw Lua C
//! API (`mlua::ffi`): no mlua value handles, no per-value reference
//! bookkeeping. Errors are raised as plain Lua strings (not mlua error
//! userdata) because Lua code commonly inspects them (`err:find(...)`,
//! concatenation); `cjson.safe` returns `nil, message` instead.
//!
//! Per-instance settings: every module table (`require`, `cjson.new()`)
//! owns an [`Instance`] behind an `Rc`. Its `encode`/`decode` are C closures
//! (`lua_pushcclosure`) whose first upvalue is a small full userdata holding
//! one strong `Rc` reference (released by the userdata's `__gc`), and whose
//! second upvalue is `cjson.array_mt`. The configuration functions are
//! ordinary mlua functions holding their own `Rc` clones. Reading the
//! instance costs one `lua_touserdata` on the upvalue.
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
use std::ffi::{c_int, c_void};
use std::rc::Rc;

use mlua::{ffi, Function, LightUserData, Lua, MultiValue, Table, Value};

mod decode;
mod encode;
mod number;
mod raw;

use decode::{Decoder, Scratch};
use encode::{EncodeScratch, Encoder};
use raw::{push_bytes, string_bytes, type_name, State};

const MODULE_NAME: &str = "cjson";
const MODULE_VERSION: &str = "2.1.0.10";

/// Nesting beyond this is refused even when `encode_max_depth` /
/// `decode_max_depth` allow more. Every open level uses slots of the C
/// function's Lua stack (up to 2 when encoding), which LuaJIT caps at
/// LUAI_MAXCSTACK = 8000 slots; the C module has the same ceiling (its
/// lua_checkstack calls fail) and reports it with the same messages.
pub(crate) const HARD_DEPTH_LIMIT: u32 = 2000;

/// Reusable buffers larger than this (after an unusually large document) are
/// freed instead of being kept for the next call.
const MAX_RETAINED_BUFFER: usize = 1 << 20;

const REG_ARRAY_MT: &str = "moonwire.cjson.array_mt";
const REG_EMPTY_ARRAY_MT: &str = "moonwire.cjson.empty_array_mt";
const REG_WRAPPERS: &str = "moonwire.cjson.wrappers";
/// Registry name of the metatable of the instance-holding userdata.
const REG_INSTANCE_MT: &std::ffi::CStr = c"moonwire.cjson.instance";

/// Its address is the identity of `cjson.empty_array`: a process-wide,
/// non-NULL light userdata that every module instance shares.
static EMPTY_ARRAY_ANCHOR: u8 = 0;

pub(crate) fn empty_array_ptr() -> *mut c_void {
    // LuaJIT only accepts 47-bit light userdata; lua-cjson masks the same way.
    let addr = std::ptr::addr_of!(EMPTY_ARRAY_ANCHOR) as usize & ((1usize << 47) - 1);
    std::ptr::without_provenance_mut::<c_void>(addr)
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

/// One `cjson` module table's state (`cjson.new()` makes another).
///
/// Holds no Lua values, so it may be dropped from any context (including a
/// `__gc` metamethod).
struct Instance {
    cfg: Cell<Config>,
    /// Addresses of `cjson.array_mt` / `cjson.empty_array_mt`, compared with
    /// metatables while encoding. Both tables are anchored in the registry
    /// for the life of the Lua state and LuaJIT never moves objects.
    array_mt_ptr: *const c_void,
    empty_array_mt_ptr: *const c_void,
    // Buffers are taken out while in use and put back afterwards, so a
    // re-entrant call (a __gc finalizer running during an allocation) simply
    // starts with fresh ones instead of hitting a borrow conflict.
    encode_buf: Cell<EncodeScratch>,
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

/// Lua-side adapters turning `nil, msg` results of the (mlua) configuration
/// functions into raised string errors.
const WRAPPERS_LUA: &str = r#"
local error = error
local wrappers = {}
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
        config: t.raw_get("config")?,
        triple: t.raw_get("triple")?,
    })
}

/// A configuration function's result: the Lua wrappers raise the message of
/// an `Err`.
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

/// Lua's own type name of an mlua value (see `raw::type_name`).
fn lua_type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "nil",
        Value::Boolean(_) => "boolean",
        Value::Integer(_) | Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Table(_) => "table",
        Value::Function(_) => "function",
        Value::Thread(_) => "thread",
        // The only other type LuaJIT has is FFI cdata.
        Value::Other(_) => "cdata",
        _ => "userdata",
    }
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

// ===== encode / decode: raw C functions =====

/// Why an `encode`/`decode` call failed.
enum Failure {
    /// Misuse (argument count): raised even by `cjson.safe`.
    Usage(String),
    /// Conversion error: raised by `cjson`, returned by `cjson.safe`.
    Convert(String),
}

/// The instance of the running `encode`/`decode` closure (upvalue 1).
///
/// # Safety
/// `l` must be running one of the closures made by `push_codec_closures`.
/// The reference must not outlive the call (the closure, on the call stack,
/// keeps the userdata and hence the `Rc` alive until then).
unsafe fn instance<'a>(l: State) -> Result<&'a Instance, Failure> {
    // SAFETY: upvalue 1 is the instance userdata, which holds a pointer
    // obtained from `Rc::into_raw` (set to null by its `__gc`).
    unsafe {
        let slot = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)).cast::<*const Instance>();
        if slot.is_null() || (*slot).is_null() {
            // Only reachable by calling a closure resurrected by another
            // finalizer after its own instance was finalized.
            return Err(Failure::Usage(
                "cjson: module instance was finalized".into(),
            ));
        }
        Ok(&**slot)
    }
}

/// The work of `encode`: leaves the JSON string on top of the stack.
///
/// # Safety
/// As `instance`.
unsafe fn encode_call(l: State) -> Result<c_int, Failure> {
    // SAFETY: plain stack queries inside a running C function.
    if unsafe { ffi::lua_gettop(l) } != 1 {
        return Err(Failure::Usage(bad_argument(
            1,
            "encode",
            "expected 1 argument",
        )));
    }
    // SAFETY: forwarded contract.
    let inst = unsafe { instance(l) }?;
    let cfg = inst.cfg.get();
    let mut buf = inst.encode_buf.take();
    buf.out.clear();
    let mut enc = Encoder::new(l, &mut buf, cfg, inst.array_mt_ptr, inst.empty_array_mt_ptr);
    // SAFETY: the argument is at index 1; the stack is back to just the
    // argument on success, leaving LUA_MINSTACK free slots for the result.
    let res = unsafe { enc.encode(1) };
    if res.is_ok() {
        // SAFETY: see above.
        unsafe { push_bytes(l, &buf.out) };
    }
    if cfg.encode_keep_buffer && buf.out.capacity() <= MAX_RETAINED_BUFFER {
        inst.encode_buf.set(buf);
    }
    res.map(|()| 1).map_err(|e| Failure::Convert(e.message()))
}

/// The work of `decode`: leaves the decoded value on top of the stack.
///
/// # Safety
/// As `instance`.
unsafe fn decode_call(l: State) -> Result<c_int, Failure> {
    // SAFETY: plain stack queries inside a running C function.
    if unsafe { ffi::lua_gettop(l) } != 1 {
        return Err(Failure::Usage(bad_argument(
            1,
            "decode",
            "expected 1 argument",
        )));
    }
    // SAFETY: forwarded contract.
    let inst = unsafe { instance(l) }?;
    // luaL_checklstring semantics: numbers are accepted as their tostring()
    // text, formatted here rather than converting the argument in place.
    let mut numtext = Vec::new();
    // SAFETY: index 1 exists. A string's bytes stay valid while it sits at
    // index 1, which the decoder never removes.
    let src: &[u8] = unsafe {
        match ffi::lua_type(l, 1) {
            ffi::LUA_TSTRING => string_bytes(l, 1),
            ffi::LUA_TNUMBER => {
                fmt_lua_number(&mut numtext, ffi::lua_tonumber(l, 1));
                &numtext
            }
            t => {
                return Err(Failure::Convert(bad_argument(
                    1,
                    "decode",
                    &format!("string expected, got {}", type_name(t)),
                )))
            }
        }
    };
    let cfg = inst.cfg.get();
    let mut scratch = inst.scratch.take().unwrap_or_default();
    let array_mt = cfg
        .decode_array_with_array_mt
        .then_some(ffi::lua_upvalueindex(2));
    // SAFETY: only the argument is on the stack.
    let res = unsafe { Decoder::new(l, src, cfg, array_mt, &mut scratch).decode() };
    if scratch.release() <= MAX_RETAINED_BUFFER {
        inst.scratch.set(Some(scratch));
    }
    res.map(|()| 1).map_err(|e| Failure::Convert(e.0))
}

/// Replaces the stack with the failure's message (preceded by `nil` when it
/// is to be returned) and tells whether it must be raised. The message
/// `String` is dropped here, so the caller may `lua_error` right after.
///
/// # Safety
/// `l` is the state of the running C function.
unsafe fn push_failure(l: State, f: Failure, safe: bool) -> bool {
    let (msg, raise) = match f {
        Failure::Usage(m) => (m, true),
        Failure::Convert(m) => (m, !safe),
    };
    // SAFETY: emptying the stack leaves at least LUA_MINSTACK free slots
    // (the work may have used up the ones after them).
    unsafe {
        ffi::lua_settop(l, 0);
        if !raise {
            ffi::lua_pushnil(l);
        }
        push_bytes(l, msg.as_bytes());
    }
    drop(msg);
    raise
}

/// `cjson.encode` (`SAFE`: `cjson.safe.encode`).
unsafe extern "C-unwind" fn encode_entry<const SAFE: bool>(l: State) -> c_int {
    // SAFETY: Lua calls this as a closure made by `push_codec_closures`.
    let res = unsafe { encode_call(l) };
    match res {
        Ok(n) => n,
        // SAFETY: `push_failure` consumed (dropped) everything with a
        // destructor; nothing else is alive in this frame when lua_error
        // unwinds through it.
        Err(f) => unsafe {
            if push_failure(l, f, SAFE) {
                ffi::lua_error(l)
            }
            2
        },
    }
}

/// `cjson.decode` (`SAFE`: `cjson.safe.decode`).
unsafe extern "C-unwind" fn decode_entry<const SAFE: bool>(l: State) -> c_int {
    // SAFETY: Lua calls this as a closure made by `push_codec_closures`.
    let res = unsafe { decode_call(l) };
    match res {
        Ok(n) => n,
        // SAFETY: as in `encode_entry`.
        Err(f) => unsafe {
            if push_failure(l, f, SAFE) {
                ffi::lua_error(l)
            }
            2
        },
    }
}

/// `__gc` of the instance userdata: releases its `Rc` reference.
unsafe extern "C-unwind" fn instance_gc(l: State) -> c_int {
    // SAFETY: called by the GC with the userdata (created in
    // `push_codec_closures`, pointer-sized, holding `Rc::into_raw` or null)
    // at index 1. Nulling the slot makes a second call harmless.
    unsafe {
        let slot = ffi::lua_touserdata(l, 1).cast::<*const Instance>();
        if !slot.is_null() && !(*slot).is_null() {
            let p = std::ptr::replace(slot, std::ptr::null());
            drop(Rc::from_raw(p));
        }
    }
    0
}

/// With `cjson.array_mt` on top of the stack, pushes the `encode` and
/// `decode` closures of `inst` (the table stays below them).
///
/// # Safety
/// Must run inside a protected call of `l` (allocation errors are raised)
/// with 6 free stack slots.
unsafe fn push_codec_closures(l: State, inst: Rc<Instance>, safe: bool) {
    let (enc, dec): (ffi::lua_CFunction, ffi::lua_CFunction) = if safe {
        (encode_entry::<true>, decode_entry::<true>)
    } else {
        (encode_entry::<false>, decode_entry::<false>)
    };
    const _: () = assert!(std::mem::align_of::<*const Instance>() <= 8);
    // SAFETY: stack: array_mt. Every value pushed here is accounted for in
    // the caller's 6 slots. The userdata is pointer-sized and (like all
    // LuaJIT userdata) at least 8-byte aligned; it gets its `__gc`
    // metatable before anything else is allocated, so the `Rc` leaked into
    // it is always released by the GC.
    unsafe {
        if ffi::luaL_newmetatable_(l, REG_INSTANCE_MT.as_ptr()) != 0 {
            ffi::lua_pushcfunction(l, instance_gc);
            ffi::lua_setfield(l, -2, c"__gc".as_ptr());
            // Hide it from getmetatable() (debug code could otherwise
            // call __gc by hand).
            ffi::lua_pushboolean(l, 0);
            ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
        }
        // array_mt, mt
        let slot = ffi::lua_newuserdata(l, std::mem::size_of::<*const Instance>())
            .cast::<*const Instance>();
        slot.write(Rc::into_raw(inst));
        ffi::lua_insert(l, -2); // array_mt, ud, mt
        ffi::lua_setmetatable(l, -2); // array_mt, ud
        ffi::lua_pushvalue(l, -1);
        ffi::lua_pushvalue(l, -3);
        ffi::lua_pushcclosure(l, enc, 2); // array_mt, ud, encode
        ffi::lua_pushvalue(l, -2);
        ffi::lua_pushvalue(l, -4);
        ffi::lua_pushcclosure(l, dec, 2); // array_mt, ud, encode, decode
        ffi::lua_remove(l, -3); // array_mt, encode, decode
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
    let array_mt = registry_table(lua, REG_ARRAY_MT)?;
    let empty_array_mt = registry_table(lua, REG_EMPTY_ARRAY_MT)?;
    let inst = Rc::new(Instance {
        cfg: Cell::new(Config::default()),
        array_mt_ptr: array_mt.to_pointer(),
        empty_array_mt_ptr: empty_array_mt.to_pointer(),
        encode_buf: Cell::new(EncodeScratch::default()),
        scratch: Cell::new(None),
    });
    let m = lua.create_table_with_capacity(0, 24)?;

    let codec_inst = inst.clone();
    // SAFETY: exec_raw runs the closure inside a protected C call whose
    // stack holds just the table argument and has LUA_MINSTACK (20) free
    // slots; the values left on that stack are the results.
    let (encode, decode): (Function, Function) = unsafe {
        lua.exec_raw(&array_mt, move |l| {
            push_codec_closures(l, codec_inst, safe);
            ffi::lua_remove(l, -3);
        })
    }?;
    m.raw_set("encode", encode)?;
    m.raw_set("decode", decode)?;

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
    m.raw_set(
        "empty_array",
        Value::LightUserData(LightUserData(empty_array_ptr())),
    )?;
    m.raw_set("array_mt", &array_mt)?;
    m.raw_set("empty_array_mt", &empty_array_mt)?;
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
