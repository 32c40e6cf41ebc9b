//! ngx.shared.DICT (ngx_http_lua_shdict.c and lua-resty-core's shdict.lua)
//! over the `ngx-shdict` store.
//!
//! As in OpenResty, `ngx.shared.NAME` is a table `{ [1] = zone }` whose
//! metatable (shared by every dict) holds the methods, so `dict.get(k)`
//! without the colon fails with `bad "zone" argument`. The zone is a full
//! userdata owning one `Arc<ShDict>`; the methods are raw C functions.
//!
//! Argument handling follows what OpenResty runs today: the methods
//! lua-resty-core replaces (get, get_stale, set, safe_set, add, safe_add,
//! replace, delete, incr, ttl, expire, flush_all, capacity, free_space)
//! return `nil, "nil key"` / `"empty key"` / `"key too long"` and convert
//! other keys with `tostring`; the C-only ones (lpush, rpush, lpop, rpop,
//! llen, flush_expired, get_keys) check their argument count and types as
//! lua-nginx-module's C code does.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::sync::Arc;

use mlua::{ffi, Lua, Table};
use ngx_shdict::{Failure, Found, Item, ItemRef, Mode, ShDict, Value, ValueRef};

use crate::lua::raw::{self, State};

/// Marks our zone userdata (a user can't forge a full userdata from Lua).
const MAGIC: u64 = 0x6d77_7368_6469_6374;

#[repr(C)]
struct ZoneUd {
    magic: u64,
    /// From `Arc::into_raw`; null once collected.
    dict: *const ShDict,
}

/// The dict behind argument 1, or `None` when it is not a dict table.
///
/// # Safety
/// `l` is the running state. The reference lives as long as argument 1 (the
/// table holding the userdata that owns the Arc) stays on the stack.
unsafe fn zone<'a>(l: State) -> Option<&'a ShDict> {
    if ffi::lua_type(l, 1) != ffi::LUA_TTABLE {
        return None;
    }
    ffi::lua_rawgeti(l, 1, 1);
    let ok = ffi::lua_type(l, -1) == ffi::LUA_TUSERDATA
        && ffi::lua_objlen(l, -1) == std::mem::size_of::<ZoneUd>();
    let p = ffi::lua_touserdata(l, -1) as *const ZoneUd;
    ffi::lua_pop(l, 1);
    if !ok || (*p).magic != MAGIC || (*p).dict.is_null() {
        return None;
    }
    Some(&*(*p).dict)
}

unsafe fn zone_or_raise<'a>(l: State) -> &'a ShDict {
    match zone(l) {
        Some(d) => d,
        None => raw::raise(l, "bad \"zone\" argument".to_string()),
    }
}

/// nginx's cached time in milliseconds, as the dict's expiry clock.
fn now_ms() -> u64 {
    let t = ngx_util::time::cached_time();
    (t.sec.max(0) as u64) * 1000 + u64::from(t.msec)
}

unsafe fn push_str(l: State, s: &str) {
    raw::push_bytes(l, s.as_bytes());
}

/// `nil, msg`.
unsafe fn nil_err(l: State, msg: &str) -> c_int {
    ffi::lua_pushnil(l);
    push_str(l, msg);
    2
}

fn check_key(k: &[u8]) -> Result<&[u8], &'static str> {
    match k.len() {
        0 => Err("empty key"),
        n if n > 65535 => Err("key too long"),
        _ => Ok(k),
    }
}

/// lua-resty-core's key rule: nil is an error, anything else goes through
/// `tostring` (the string replaces the argument, keeping it alive).
unsafe fn key_arg<'a>(l: State, idx: c_int) -> Result<&'a [u8], &'static str> {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNIL | ffi::LUA_TNONE => Err("nil key"),
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => check_key(raw::to_bytes(l, idx)),
        _ => {
            ffi::luaL_tolstring(l, idx, std::ptr::null_mut());
            ffi::lua_replace(l, idx);
            check_key(raw::to_bytes(l, idx))
        }
    }
}

/// lua-nginx-module's C key rule (`luaL_checklstring`).
unsafe fn c_key_arg<'a>(l: State, idx: c_int) -> Result<&'a [u8], &'static str> {
    if ffi::lua_isnil(l, idx) != 0 {
        return Err("nil key");
    }
    let mut len = 0usize;
    let p = ffi::luaL_checklstring(l, idx, &mut len);
    check_key(std::slice::from_raw_parts(p as *const u8, len))
}

/// A number argument as Lua's `tonumber` sees it (numbers and numeric strings).
unsafe fn to_number(l: State, idx: c_int) -> Option<f64> {
    (ffi::lua_isnumber(l, idx) != 0).then(|| ffi::lua_tonumber(l, idx))
}

/// Seconds from Lua to the store's milliseconds, truncated as OpenResty's
/// `exptime * 1000` is when passed as a C `long`.
fn secs_to_ms(s: f64) -> u64 {
    let ms = s * 1000.0;
    if ms >= 1.0 {
        ms as u64
    } else {
        0
    }
}

/// A Lua number converted to a C `int` as LuaJIT's FFI does on x86-64.
fn to_c_int(n: f64) -> i32 {
    if n > -2_147_483_649.0 && n < 2_147_483_648.0 {
        n as i32
    } else {
        i32::MIN
    }
}

unsafe fn push_failure(l: State, f: Failure) -> c_int {
    ffi::lua_pushboolean(l, 0);
    push_str(l, f.err.as_str());
    ffi::lua_pushboolean(l, c_int::from(f.forcible));
    3
}

thread_local! {
    /// Where `get` copies a string value while the shard is locked.
    static SCRATCH: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

enum Got {
    Str(Vec<u8>),
    Num(f64),
    Bool(bool),
    List,
}

/// Copy what `get` found, so nothing is pushed (which may run Lua
/// finalizers) while the shard is locked.
fn copy_out(f: Found<'_>) -> (Got, u32, bool) {
    let v = match f.value {
        ValueRef::Str(s) => {
            let mut buf = SCRATCH.with(|b| b.take());
            buf.clear();
            buf.extend_from_slice(s);
            Got::Str(buf)
        }
        ValueRef::Num(n) => Got::Num(n),
        ValueRef::Bool(b) => Got::Bool(b),
        ValueRef::List => Got::List,
    };
    (v, f.flags, f.stale)
}

unsafe fn get_impl(l: State, stale: bool) -> c_int {
    let d = zone_or_raise(l);
    let key = match key_arg(l, 2) {
        Ok(k) => k,
        Err(m) => return nil_err(l, m),
    };
    let Some((v, flags, is_stale)) = d.get(key, stale, now_ms(), |f| f.map(copy_out)) else {
        ffi::lua_pushnil(l);
        return 1;
    };
    match v {
        Got::Str(buf) => {
            raw::push_bytes(l, &buf);
            SCRATCH.with(|b| b.set(buf));
        }
        Got::Num(n) => ffi::lua_pushnumber(l, n),
        Got::Bool(b) => ffi::lua_pushboolean(l, c_int::from(b)),
        Got::List => return nil_err(l, "value is a list"),
    }
    let push_flags = |l| {
        if flags != 0 {
            ffi::lua_pushinteger(l, ffi::lua_Integer::from(flags as i32));
        } else {
            ffi::lua_pushnil(l);
        }
    };
    if stale {
        push_flags(l);
        ffi::lua_pushboolean(l, c_int::from(is_stale));
        3
    } else if flags != 0 {
        push_flags(l);
        2
    } else {
        1
    }
}

unsafe extern "C-unwind" fn get(l: State) -> c_int {
    get_impl(l, false)
}

unsafe extern "C-unwind" fn get_stale(l: State) -> c_int {
    get_impl(l, true)
}

/// The message of a comparison of a non-number with a number, as Lua words it.
unsafe fn compare_error(l: State, idx: c_int) -> String {
    format!(
        "attempt to compare {} with number",
        raw::type_name(ffi::lua_type(l, idx))
    )
}

unsafe fn store(l: State, mode: Mode) -> c_int {
    let d = zone_or_raise(l);
    let exptime = match ffi::lua_type(l, 4) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => 0.0,
        ffi::LUA_TBOOLEAN if ffi::lua_toboolean(l, 4) == 0 => 0.0,
        ffi::LUA_TNUMBER => {
            let e = ffi::lua_tonumber(l, 4);
            if e < 0.0 {
                raw::raise(l, "bad \"exptime\" argument".to_string());
            }
            e
        }
        _ => {
            let msg = compare_error(l, 4);
            raw::raise(l, msg)
        }
    };
    let key = match key_arg(l, 2) {
        Ok(k) => k,
        Err(m) => return nil_err(l, m),
    };
    let value = match ffi::lua_type(l, 3) {
        ffi::LUA_TSTRING => Some(Value::Str(raw::to_bytes(l, 3))),
        ffi::LUA_TNUMBER => Some(Value::Num(ffi::lua_tonumber(l, 3))),
        ffi::LUA_TBOOLEAN => Some(Value::Bool(ffi::lua_toboolean(l, 3) != 0)),
        ffi::LUA_TNIL | ffi::LUA_TNONE => None,
        _ => return nil_err(l, "bad value type"),
    };
    let flags = match ffi::lua_type(l, 5) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => 0,
        ffi::LUA_TBOOLEAN if ffi::lua_toboolean(l, 5) == 0 => 0,
        ffi::LUA_TNUMBER => to_c_int(ffi::lua_tonumber(l, 5)) as u32,
        t => raw::raise(
            l,
            format!("cannot convert '{}' to 'int'", raw::type_name(t)),
        ),
    };
    match d.store(mode, key, value, secs_to_ms(exptime), flags, now_ms()) {
        Ok(forcible) => {
            ffi::lua_pushboolean(l, 1);
            ffi::lua_pushnil(l);
            ffi::lua_pushboolean(l, c_int::from(forcible));
            3
        }
        Err(f) => push_failure(l, f),
    }
}

unsafe extern "C-unwind" fn set(l: State) -> c_int {
    store(l, Mode::Set)
}

unsafe extern "C-unwind" fn safe_set(l: State) -> c_int {
    store(l, Mode::SafeSet)
}

unsafe extern "C-unwind" fn add(l: State) -> c_int {
    store(l, Mode::Add)
}

unsafe extern "C-unwind" fn safe_add(l: State) -> c_int {
    store(l, Mode::SafeAdd)
}

unsafe extern "C-unwind" fn replace(l: State) -> c_int {
    store(l, Mode::Replace)
}

/// `delete(key)` is `set(key, nil)`.
unsafe extern "C-unwind" fn delete(l: State) -> c_int {
    ffi::lua_settop(l, 2);
    store(l, Mode::Set)
}

unsafe extern "C-unwind" fn incr(l: State) -> c_int {
    let d = zone_or_raise(l);
    let key = match key_arg(l, 2) {
        Ok(k) => k,
        Err(m) => return nil_err(l, m),
    };
    let Some(by) = to_number(l, 3) else {
        raw::raise(l, "cannot convert 'nil' to 'double'".to_string())
    };
    let has_init = ffi::lua_toboolean(l, 4) != 0;
    let init = if has_init {
        match to_number(l, 4) {
            Some(n) => Some(n),
            None => {
                let msg = format!(
                    "bad init arg: number expected, got {}",
                    raw::type_name(ffi::lua_type(l, 4))
                );
                raw::raise(l, msg)
            }
        }
    } else {
        None
    };
    let init_ttl = match ffi::lua_type(l, 5) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => 0.0,
        t => {
            let Some(ttl) = to_number(l, 5) else {
                let msg = format!(
                    "bad init_ttl arg: number expected, got {}",
                    raw::type_name(t)
                );
                raw::raise(l, msg)
            };
            if ttl < 0.0 {
                raw::raise(l, "bad \"init_ttl\" argument".to_string());
            }
            if init.is_none() {
                raw::raise(
                    l,
                    "must provide \"init\" when providing \"init_ttl\"".to_string(),
                );
            }
            ttl
        }
    };
    match d.incr(key, by, init, secs_to_ms(init_ttl), now_ms()) {
        Ok((n, forcible)) => {
            ffi::lua_pushnumber(l, n);
            if init.is_none() {
                return 1;
            }
            ffi::lua_pushnil(l);
            ffi::lua_pushboolean(l, c_int::from(forcible));
            3
        }
        Err(f) => nil_err(l, f.err.as_str()),
    }
}

/// The C API's argument count and zone checks (lua-nginx-module words).
unsafe fn c_args<'a>(l: State, want: c_int) -> &'a ShDict {
    let n = ffi::lua_gettop(l);
    if n != want {
        raw::raise(l, format!("expecting {want} arguments, but only seen {n}"));
    }
    zone_or_raise(l)
}

unsafe fn push_impl(l: State, left: bool) -> c_int {
    let d = c_args(l, 3);
    let key = match c_key_arg(l, 2) {
        Ok(k) => k,
        Err(m) => return nil_err(l, m),
    };
    let item = match ffi::lua_type(l, 3) {
        ffi::LUA_TSTRING => ItemRef::Str(raw::to_bytes(l, 3)),
        ffi::LUA_TNUMBER => ItemRef::Num(ffi::lua_tonumber(l, 3)),
        _ => return nil_err(l, "bad value type"),
    };
    match d.push(key, item, left, now_ms()) {
        Ok(n) => {
            ffi::lua_pushnumber(l, n as f64);
            1
        }
        // a list head that does not fit is `false`, an element `nil` (lua-nginx-module 0.10.23)
        Err(f) if f.err == ngx_shdict::Error::NoMemory => {
            ffi::lua_pushboolean(l, 0);
            push_str(l, f.err.as_str());
            2
        }
        Err(f) => nil_err(l, f.err.as_str()),
    }
}

unsafe extern "C-unwind" fn lpush(l: State) -> c_int {
    push_impl(l, true)
}

unsafe extern "C-unwind" fn rpush(l: State) -> c_int {
    push_impl(l, false)
}

unsafe fn pop_impl(l: State, left: bool) -> c_int {
    let d = c_args(l, 2);
    let key = match c_key_arg(l, 2) {
        Ok(k) => k,
        Err(m) => return nil_err(l, m),
    };
    match d.pop(key, left, now_ms()) {
        Ok(Some(Item::Str(s))) => raw::push_bytes(l, &s),
        Ok(Some(Item::Num(n))) => ffi::lua_pushnumber(l, n),
        Ok(None) => ffi::lua_pushnil(l),
        Err(f) => return nil_err(l, f.err.as_str()),
    }
    1
}

unsafe extern "C-unwind" fn lpop(l: State) -> c_int {
    pop_impl(l, true)
}

unsafe extern "C-unwind" fn rpop(l: State) -> c_int {
    pop_impl(l, false)
}

unsafe extern "C-unwind" fn llen(l: State) -> c_int {
    let d = c_args(l, 2);
    let key = match c_key_arg(l, 2) {
        Ok(k) => k,
        Err(m) => return nil_err(l, m),
    };
    match d.llen(key, now_ms()) {
        Ok(n) => {
            ffi::lua_pushnumber(l, n as f64);
            1
        }
        Err(f) => nil_err(l, f.err.as_str()),
    }
}

/// `flush_expired(max?)` and `get_keys(max?)`: `(dict, max)`, 0 = no limit.
unsafe fn c_max_args<'a>(l: State, default: usize) -> (&'a ShDict, usize) {
    let n = ffi::lua_gettop(l);
    if n != 1 && n != 2 {
        raw::raise(l, format!("expecting 1 or 2 argument(s), but saw {n}"));
    }
    ffi::luaL_checktype(l, 1, ffi::LUA_TTABLE);
    let Some(d) = zone(l) else {
        raw::raise(
            l,
            "bad user data for the ngx_shm_zone_t pointer".to_string(),
        )
    };
    let max = if n == 2 {
        // a negative limit never matches the count: no limit, as in nginx
        usize::try_from(ffi::luaL_checkinteger(l, 2) as c_int).unwrap_or(0)
    } else {
        default
    };
    (d, max)
}

unsafe extern "C-unwind" fn flush_expired(l: State) -> c_int {
    let (d, max) = c_max_args(l, 0);
    ffi::lua_pushnumber(l, d.flush_expired(max, now_ms()) as f64);
    1
}

unsafe extern "C-unwind" fn get_keys(l: State) -> c_int {
    let (d, max) = c_max_args(l, 1024);
    let keys = d.get_keys(max, now_ms());
    ffi::lua_createtable(l, keys.len().min(c_int::MAX as usize) as c_int, 0);
    for (i, k) in keys.iter().enumerate() {
        raw::push_bytes(l, k);
        ffi::lua_rawseti(l, -2, (i + 1) as ffi::lua_Integer);
    }
    1
}

unsafe extern "C-unwind" fn flush_all(l: State) -> c_int {
    zone_or_raise(l).flush_all();
    0
}

unsafe extern "C-unwind" fn ttl(l: State) -> c_int {
    let d = zone_or_raise(l);
    let key = match key_arg(l, 2) {
        Ok(k) => k,
        Err(m) => return nil_err(l, m),
    };
    match d.ttl(key, now_ms()) {
        Some(ms) => {
            ffi::lua_pushnumber(l, ms as f64 / 1000.0);
            1
        }
        None => nil_err(l, "not found"),
    }
}

unsafe extern "C-unwind" fn expire(l: State) -> c_int {
    let d = zone_or_raise(l);
    if ffi::lua_toboolean(l, 3) == 0 {
        raw::raise(l, "bad \"exptime\" argument".to_string());
    }
    let key = match key_arg(l, 2) {
        Ok(k) => k,
        Err(m) => return nil_err(l, m),
    };
    let Some(exptime) = to_number(l, 3) else {
        let msg = format!(
            "attempt to perform arithmetic on local 'exptime' (a {} value)",
            raw::type_name(ffi::lua_type(l, 3))
        );
        raw::raise(l, msg)
    };
    if d.expire(key, secs_to_ms(exptime), now_ms()) {
        ffi::lua_pushboolean(l, 1);
        1
    } else {
        nil_err(l, "not found")
    }
}

unsafe extern "C-unwind" fn capacity(l: State) -> c_int {
    ffi::lua_pushnumber(l, zone_or_raise(l).capacity() as f64);
    1
}

unsafe extern "C-unwind" fn free_space(l: State) -> c_int {
    ffi::lua_pushnumber(l, zone_or_raise(l).free_space() as f64);
    1
}

unsafe extern "C-unwind" fn zone_gc(l: State) -> c_int {
    let p = ffi::lua_touserdata(l, 1) as *mut ZoneUd;
    if !p.is_null() && (*p).magic == MAGIC && !(*p).dict.is_null() {
        drop(Arc::from_raw((*p).dict));
        (*p).dict = std::ptr::null();
    }
    0
}

/// `(arc)` -> a zone userdata owning that `Arc::into_raw` pointer.
unsafe extern "C-unwind" fn new_zone(l: State) -> c_int {
    let dict = ffi::lua_touserdata(l, 1) as *const ShDict;
    let ud = ffi::lua_newuserdata(l, std::mem::size_of::<ZoneUd>()) as *mut ZoneUd;
    ud.write(ZoneUd { magic: MAGIC, dict });
    if ffi::luaL_newmetatable(l, c"moonwire.shdict.zone".as_ptr()) != 0 {
        ffi::lua_pushcfunction(l, zone_gc);
        ffi::lua_setfield(l, -2, c"__gc".as_ptr());
        // hide the metatable, so scripts can't call __gc themselves
        ffi::lua_pushboolean(l, 0);
        ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
    }
    ffi::lua_setmetatable(l, -2);
    1
}

type Method = unsafe extern "C-unwind" fn(State) -> c_int;

const METHODS: &[(&str, Method)] = &[
    ("get", get),
    ("get_stale", get_stale),
    ("set", set),
    ("safe_set", safe_set),
    ("add", add),
    ("safe_add", safe_add),
    ("replace", replace),
    ("delete", delete),
    ("incr", incr),
    ("lpush", lpush),
    ("rpush", rpush),
    ("lpop", lpop),
    ("rpop", rpop),
    ("llen", llen),
    ("ttl", ttl),
    ("expire", expire),
    ("flush_all", flush_all),
    ("flush_expired", flush_expired),
    ("get_keys", get_keys),
    ("capacity", capacity),
    ("free_space", free_space),
];

/// `ngx.shared`, empty until [`install`] fills it (a config without
/// `lua_shared_dict` still has the table, as in OpenResty).
pub fn register(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    ngx.set("shared", lua.create_table()?)?;
    // lua-resty-core's module only patches the methods in, which are native here
    let preload: Table = lua.globals().get::<Table>("package")?.get("preload")?;
    preload.set(
        "resty.core.shdict",
        lua.create_function(|lua, ()| lua.create_table_from([("version", "0.1.28")]))?,
    )
}

/// Put the config's dicts into this VM's `ngx.shared`.
pub fn install(lua: &Lua, dicts: &[(String, Arc<ShDict>)]) -> mlua::Result<()> {
    if dicts.is_empty() {
        return Ok(());
    }
    let ngx: Table = lua.globals().get("ngx")?;
    let shared: Table = ngx.get("shared")?;
    let mt = lua.create_table()?;
    for &(name, f) in METHODS {
        // SAFETY: every method follows the raw-function rule in lua/raw.rs.
        mt.set(name, unsafe { lua.create_c_function(f)? })?;
    }
    mt.set("__index", mt.clone())?;
    // SAFETY: new_zone only wraps the pointer it is given.
    let new_zone = unsafe { lua.create_c_function(new_zone)? };
    for (name, dict) in dicts {
        let raw = Arc::into_raw(dict.clone()) as *mut c_void;
        let zone: mlua::Value = new_zone.call(mlua::LightUserData(raw))?;
        let t = lua.create_table_from([(1, zone)])?;
        t.set_metatable(Some(mt.clone()))?;
        shared.set(name.as_str(), t)?;
    }
    Ok(())
}
