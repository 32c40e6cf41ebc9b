//! Small helpers over the raw Lua C API (`mlua::ffi`) shared by the encoder,
//! the decoder and the C entry points.
//!
//! Every C function of this crate follows the rule of
//! `moonwire/src/lua/raw.rs`: the work happens in Rust functions returning
//! `Result`; only the outer `extern "C-unwind"` function raises a Lua error
//! (`lua_error` unwinds through its frame), after every value with a
//! destructor has been dropped.

use std::ffi::{c_char, c_int};

use mlua::ffi;

pub(crate) type State = *mut ffi::lua_State;

/// Lua's own type names (as `type()` / `lua_typename` report them), used in
/// lua-cjson's error messages. LuaJIT's only extra type is FFI cdata.
pub(crate) fn type_name(t: c_int) -> &'static str {
    match t {
        ffi::LUA_TNIL => "nil",
        ffi::LUA_TBOOLEAN => "boolean",
        ffi::LUA_TLIGHTUSERDATA | ffi::LUA_TUSERDATA => "userdata",
        ffi::LUA_TNUMBER => "number",
        ffi::LUA_TSTRING => "string",
        ffi::LUA_TTABLE => "table",
        ffi::LUA_TFUNCTION => "function",
        ffi::LUA_TTHREAD => "thread",
        ffi::LUA_TNONE => "no value",
        _ => "cdata",
    }
}

/// The bytes of the *string* at `idx`.
///
/// Only ever called on values whose `lua_type` is `LUA_TSTRING`: for those
/// `lua_tolstring` returns the string's own buffer and never converts the
/// slot in place (which it would do to a number, breaking a `lua_next`
/// traversal if the slot were a key).
///
/// # Safety
/// `idx` must be a valid index holding a string. The slice is valid while
/// that string stays reachable (it is anchored by the stack slot; LuaJIT
/// never moves strings).
#[inline]
pub(crate) unsafe fn string_bytes<'a>(l: State, idx: c_int) -> &'a [u8] {
    // SAFETY: `idx` is a valid index (caller contract).
    debug_assert_eq!(unsafe { ffi::lua_type(l, idx) }, ffi::LUA_TSTRING);
    let mut len = 0usize;
    // SAFETY: as above; on a string, lua_tolstring only reads the slot.
    let p = unsafe { ffi::lua_tolstring(l, idx, &mut len) };
    if p.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: LuaJIT returns the string's `len` bytes, which live (and stay
    // in place) as long as the string is anchored (caller contract).
    unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) }
}

/// Pushes `b` as a Lua string.
///
/// # Safety
/// `l` must be a valid state with room for one more value. May raise a Lua
/// (memory) error.
#[inline]
pub(crate) unsafe fn push_bytes(l: State, b: &[u8]) {
    // An empty slice may carry a dangling pointer; LuaJIT does not read it
    // for length 0, but pass a real one anyway.
    let p = if b.is_empty() {
        c"".as_ptr()
    } else {
        b.as_ptr().cast::<c_char>()
    };
    // SAFETY: a free slot is guaranteed by the caller; `p` points to
    // `b.len()` readable bytes, which LuaJIT copies.
    unsafe { ffi::lua_pushlstring_(l, p, b.len()) };
}
