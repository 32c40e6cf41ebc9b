//! Raw Lua C API helpers for the hot paths (ngx.say/print, the driver).
//!
//! mlua's callbacks cost about a thousand instructions per call (argument
//! conversion into a heap-allocated MultiValue, error boxing); functions on
//! every request's path are plain `lua_CFunction`s instead.
//!
//! Rule for every C function here: do the work in a Rust function that
//! returns `Result`, and raise a Lua error only from the outer
//! `extern "C-unwind"` function after every value with a destructor is gone,
//! because `lua_error` unwinds through this frame.

use std::ffi::c_int;

use mlua::ffi;

pub type State = *mut ffi::lua_State;

/// Raise `msg` as a Lua error string prefixed with the calling Lua code's
/// position, as luaL_error does (`content_by_lua(nginx.conf:12):3: msg`).
///
/// # Safety
/// `l` must be the state running the calling C function; nothing with a
/// destructor may be alive in the caller's frame.
pub unsafe fn raise(l: State, msg: String) -> ! {
    push_where(l);
    ffi::lua_pushlstring(l, msg.as_ptr() as *const std::ffi::c_char, msg.len());
    drop(msg);
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}

/// luaL_where for the first caller outside moonwire's own Lua glue (whose
/// wrappers sit between user code and the primitives); nothing when that
/// caller is a C function such as `pcall`, as with luaL_where.
unsafe fn push_where(l: State) {
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    for level in 1..8 {
        if ffi::lua_getstack(l, level, &mut ar) == 0 {
            break;
        }
        ffi::lua_getinfo(l, c"Sl".as_ptr(), &mut ar);
        let src = std::ffi::CStr::from_ptr(ar.short_src.as_ptr()).to_bytes();
        if src.starts_with(b"moonwire.") {
            continue;
        }
        if ar.currentline > 0 {
            let pos = format!("{}:{}: ", String::from_utf8_lossy(src), ar.currentline);
            ffi::lua_pushlstring(l, pos.as_ptr() as *const std::ffi::c_char, pos.len());
            return;
        }
        break;
    }
    ffi::lua_pushlstring(l, c"".as_ptr(), 0);
}

/// The bytes of the string (or number, converted in place) at `idx`.
///
/// # Safety
/// `idx` must be a valid index holding a string or number; the slice lives as
/// long as the value stays on the stack.
pub unsafe fn to_bytes<'a>(l: State, idx: c_int) -> &'a [u8] {
    let mut len = 0usize;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if p.is_null() {
        return &[];
    }
    std::slice::from_raw_parts(p as *const u8, len)
}

/// # Safety
/// `l` must be a valid state with room for one more value.
pub unsafe fn push_bytes(l: State, b: &[u8]) {
    ffi::lua_pushlstring(l, b.as_ptr() as *const std::ffi::c_char, b.len());
}

pub fn type_name(t: c_int) -> &'static str {
    match t {
        ffi::LUA_TNIL => "nil",
        ffi::LUA_TBOOLEAN => "boolean",
        ffi::LUA_TLIGHTUSERDATA => "userdata",
        ffi::LUA_TNUMBER => "number",
        ffi::LUA_TSTRING => "string",
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TUSERDATA => "userdata",
        ffi::LUA_TTHREAD => "thread",
        _ => "cdata",
    }
}

/// Set `t[k] = v` where t is at `t_idx` and k, v are the two values on top,
/// turning a repeated key into an array (ngx.req.get_headers semantics).
/// Pops k and v.
///
/// # Safety
/// `t_idx` is an absolute index of a table; the stack has k, v on top and room for 3 more.
pub unsafe fn insert_multi(l: State, t_idx: c_int) {
    // stack: k v
    ffi::lua_pushvalue(l, -2); // k v k
    ffi::lua_rawget(l, t_idx); // k v old
    match ffi::lua_type(l, -1) {
        ffi::LUA_TNIL => {
            ffi::lua_pop(l, 1);
            ffi::lua_rawset(l, t_idx);
        }
        ffi::LUA_TTABLE => {
            let n = ffi::lua_objlen(l, -1);
            ffi::lua_pushvalue(l, -2); // k v old v
            ffi::lua_rawseti(l, -2, (n + 1) as ffi::lua_Integer); // k v old
            ffi::lua_pop(l, 3);
        }
        _ => {
            ffi::lua_createtable(l, 2, 0); // k v old arr
            ffi::lua_insert(l, -2); // k v arr old
            ffi::lua_rawseti(l, -2, 1); // k v arr
            ffi::lua_insert(l, -2); // k arr v
            ffi::lua_rawseti(l, -2, 2); // k arr
            ffi::lua_rawset(l, t_idx);
        }
    }
}

/// Push the driver's yield marker (see `lua::yield_marker`).
///
/// # Safety
/// `l` is a valid state with room for one value.
pub unsafe fn push_yield(l: State) {
    ffi::lua_pushlightuserdata(l, super::yield_marker_ptr());
}
