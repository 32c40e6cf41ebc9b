//! Lua value -> JSON text, over the raw Lua C API.

use std::ffi::{c_int, c_void};

use mlua::ffi;

use crate::number::format_g;
use crate::raw::{string_bytes, type_name, State};
use crate::{Config, InvalidNumbers, HARD_DEPTH_LIMIT};

/// Escape classes: 0 = copy verbatim, 1 = always escaped, 2 = `/` (escaped
/// only when `encode_escape_forward_slash` is on).
const ESCAPE_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = 1;
        i += 1;
    }
    t[b'"' as usize] = 1;
    t[b'\\' as usize] = 1;
    // lua-cjson escapes DEL too; keep byte-identical output.
    t[0x7f] = 1;
    t[b'/' as usize] = 2;
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

fn push_escape(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'/' => out.extend_from_slice(b"\\/"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x09 => out.extend_from_slice(b"\\t"),
        0x0a => out.extend_from_slice(b"\\n"),
        0x0c => out.extend_from_slice(b"\\f"),
        0x0d => out.extend_from_slice(b"\\r"),
        _ => out.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(b >> 4) as usize],
            HEX[(b & 15) as usize],
        ]),
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn push_string(out: &mut Vec<u8>, s: &[u8], escape_slash: bool) {
    // ESCAPE_CLASS bits: 1 = always escaped, 2 = `/`.
    let mask = if escape_slash { 3 } else { 1 };
    match s.iter().position(|&b| ESCAPE_CLASS[b as usize] & mask != 0) {
        // The common case: one bulk copy.
        None => {
            let n = s.len();
            out.reserve(n + 2);
            // SAFETY: `reserve` made room for n + 2 more bytes; all of them
            // are written before the length is extended over them, and `s`
            // (Lua string memory) cannot overlap the Vec's buffer.
            unsafe {
                let len = out.len();
                let dst = out.as_mut_ptr().add(len);
                dst.write(b'"');
                std::ptr::copy_nonoverlapping(s.as_ptr(), dst.add(1), n);
                dst.add(n + 1).write(b'"');
                out.set_len(len + n + 2);
            }
        }
        Some(first) => push_escaped(out, s, first, mask),
    }
}

/// `push_string` for a string whose first byte needing an escape is at
/// `first`.
#[cold]
fn push_escaped(out: &mut Vec<u8>, s: &[u8], first: usize, mask: u8) {
    out.reserve(s.len() + 8);
    out.push(b'"');
    out.extend_from_slice(&s[..first]);
    let mut run = first;
    for (i, &b) in s.iter().enumerate().skip(first) {
        if ESCAPE_CLASS[b as usize] & mask == 0 {
            continue;
        }
        out.extend_from_slice(&s[run..i]);
        push_escape(out, b);
        run = i + 1;
    }
    out.extend_from_slice(&s[run..]);
    out.push(b'"');
}

/// Encoding failure. Kept small and formatted only once it reaches the
/// caller.
pub(crate) enum EncodeError {
    Nesting(u32),
    Sparse,
    BadKey(&'static str),
    Unsupported(&'static str),
    InvalidNumber,
}

impl EncodeError {
    pub fn message(&self) -> String {
        match self {
            EncodeError::Nesting(d) => format!("Cannot serialise, excessive nesting ({d})"),
            EncodeError::Sparse => "Cannot serialise table: excessively sparse array".into(),
            EncodeError::BadKey(t) => {
                format!("Cannot serialise {t}: table key must be a number or string")
            }
            EncodeError::Unsupported(t) => format!("Cannot serialise {t}: type not supported"),
            EncodeError::InvalidNumber => {
                "Cannot serialise number: must not be NaN or Infinity".into()
            }
        }
    }
}

type Result<T> = std::result::Result<T, EncodeError>;

/// Whether a numeric key counts as an array index for lua-cjson: a positive
/// integral number. Beyond C int range the C module's index conversion
/// overflows and the table ends up an object, so such keys are not indexes
/// here.
fn is_array_index(n: f64) -> bool {
    // The range check comes first, so the conversion is exact for integral
    // values (and NaN fails it).
    n >= 1.0 && n <= f64::from(i32::MAX) && f64::from(n as i32) == n
}

/// `Frame::len` of an object frame.
const OBJECT: c_int = -1;

/// One open table of the explicit traversal stack.
///
/// Lua stack layout while a frame is open: the table at `t`; for an object,
/// the current `lua_next` key right above it. The element being written is
/// pushed on top (and is the child frame's `t` when it is a table).
#[derive(Clone, Copy)]
pub(crate) struct Frame {
    /// Absolute stack index of the table.
    t: c_int,
    /// Number of array elements, or `OBJECT`.
    len: c_int,
    /// Array elements written so far.
    i: c_int,
    /// No element has been written yet (no comma needed).
    first: bool,
    /// Objects: the first entry (key and value) is already on the stack,
    /// fetched by the classification walk.
    fetched: bool,
}

/// Buffers reused across `encode` calls of one module instance.
#[derive(Default)]
pub(crate) struct EncodeScratch {
    pub out: Vec<u8>,
    frames: Vec<Frame>,
}

enum Shape {
    /// Already written in full (an empty `[]` or `{}`).
    Done,
    Array(c_int),
    /// `fetched`: the first entry is on the stack (see `Frame::fetched`).
    Object {
        fetched: bool,
    },
}

/// Result of lua-cjson's array-length walk.
enum Length {
    /// Every key is a positive integer; the largest one.
    Array(c_int),
    /// The table must be an object. `fetched`: the very first entry had a
    /// non-index key and is left on the stack (key, value) so that the
    /// object walk can start from it instead of calling `lua_next` again.
    Object { fetched: bool },
}

/// lua-cjson's encoder over the raw C API. Nesting is handled with an
/// explicit stack of frames (no recursion), so document depth never touches
/// the Rust stack; Lua stack use is 2 slots per level, checked with
/// `lua_checkstack` as each table is opened.
pub(crate) struct Encoder<'a> {
    l: State,
    s: &'a mut EncodeScratch,
    cfg: Config,
    array_mt: *const c_void,
    empty_array_mt: *const c_void,
}

impl<'a> Encoder<'a> {
    pub fn new(
        l: State,
        s: &'a mut EncodeScratch,
        cfg: Config,
        array_mt: *const c_void,
        empty_array_mt: *const c_void,
    ) -> Self {
        s.frames.clear();
        Encoder {
            l,
            s,
            cfg,
            array_mt,
            empty_array_mt,
        }
    }

    /// Appends the JSON text of the value at `idx` to the output buffer.
    /// The Lua stack is left as it was on success (not on error).
    ///
    /// # Safety
    /// Must run inside a C function of `l` with at least one free stack
    /// slot (any C function starts with `LUA_MINSTACK`); `idx` must be a
    /// valid absolute index.
    pub unsafe fn encode(&mut self, idx: c_int) -> Result<()> {
        let l = self.l;
        // SAFETY: `idx` is valid (caller contract).
        let t = unsafe { ffi::lua_type(l, idx) };
        if t != ffi::LUA_TTABLE {
            // SAFETY: as above.
            unsafe { self.scalar(idx, t) }?;
            return Ok(());
        }
        // SAFETY: one free slot is guaranteed by the caller; `open` checks
        // for more before using them.
        unsafe {
            ffi::lua_pushvalue(l, idx);
            self.open(1)?;
            self.walk()
        }
    }

    fn number(&mut self, n: f64) -> Result<()> {
        if n.is_finite() {
            format_g(&mut self.s.out, n, self.cfg.encode_number_precision);
            return Ok(());
        }
        let text: &[u8] = match self.cfg.encode_invalid_numbers {
            InvalidNumbers::Off => return Err(EncodeError::InvalidNumber),
            InvalidNumbers::Null => b"null",
            InvalidNumbers::On if n.is_nan() => b"NaN",
            InvalidNumbers::On if n < 0.0 => b"-Infinity",
            InvalidNumbers::On => b"Infinity",
        };
        self.s.out.extend_from_slice(text);
        Ok(())
    }

    fn unsupported(&self, t: c_int) -> Result<bool> {
        if self.cfg.encode_skip_unsupported_value_types {
            return Ok(false);
        }
        Err(EncodeError::Unsupported(type_name(t)))
    }

    /// Appends the non-table value at `idx`, of Lua type `t`. `Ok(false)`:
    /// skipped (unsupported type with `encode_skip_unsupported_value_types`
    /// on).
    ///
    /// # Safety
    /// `idx` must be a valid stack index holding a value of type `t`.
    unsafe fn scalar(&mut self, idx: c_int, t: c_int) -> Result<bool> {
        let l = self.l;
        // SAFETY: `idx` is valid (caller contract); lua_tolstring is only
        // reached for strings (no in-place conversion), lua_touserdata only
        // reads the slot.
        unsafe {
            match t {
                ffi::LUA_TNIL => self.s.out.extend_from_slice(b"null"),
                ffi::LUA_TBOOLEAN => {
                    let text: &[u8] = if ffi::lua_toboolean(l, idx) != 0 {
                        b"true"
                    } else {
                        b"false"
                    };
                    self.s.out.extend_from_slice(text);
                }
                ffi::LUA_TNUMBER => self.number(ffi::lua_tonumber(l, idx))?,
                ffi::LUA_TSTRING => push_string(
                    &mut self.s.out,
                    string_bytes(l, idx),
                    self.cfg.encode_escape_forward_slash,
                ),
                ffi::LUA_TLIGHTUSERDATA => {
                    let p = ffi::lua_touserdata(l, idx);
                    if p.is_null() {
                        self.s.out.extend_from_slice(b"null");
                    } else if p == crate::empty_array_ptr() {
                        self.s.out.extend_from_slice(b"[]");
                    } else {
                        return self.unsupported(ffi::LUA_TLIGHTUSERDATA);
                    }
                }
                t => return self.unsupported(t),
            }
        }
        Ok(true)
    }

    /// Appends the object key at `idx` and the colon after it.
    ///
    /// # Safety
    /// `idx` must be a valid stack index. The key of a live `lua_next`
    /// traversal is fine: numbers are read with `lua_tonumber` and only
    /// strings reach `lua_tolstring`, so the slot is never converted.
    unsafe fn key(&mut self, idx: c_int) -> Result<()> {
        let l = self.l;
        // SAFETY: see the function's contract.
        unsafe {
            match ffi::lua_type(l, idx) {
                ffi::LUA_TSTRING => push_string(
                    &mut self.s.out,
                    string_bytes(l, idx),
                    self.cfg.encode_escape_forward_slash,
                ),
                ffi::LUA_TNUMBER => {
                    self.s.out.push(b'"');
                    self.number(ffi::lua_tonumber(l, idx))?;
                    self.s.out.push(b'"');
                }
                t => return Err(EncodeError::BadKey(type_name(t))),
            }
        }
        self.s.out.push(b':');
        Ok(())
    }

    /// Starts the table on top of the stack, at nesting `depth`: writes its
    /// opening and pushes its frame, or writes it whole and pops it.
    ///
    /// # Safety
    /// The top of the stack must be a table.
    unsafe fn open(&mut self, depth: u32) -> Result<()> {
        let l = self.l;
        // Like the C module: the depth limit, or the Lua stack unable to hold
        // another level, is "excessive nesting".
        if depth > self.cfg.encode_max_depth
            || depth > HARD_DEPTH_LIMIT
            // SAFETY: lua_checkstack only grows the stack.
            || unsafe { ffi::lua_checkstack(l, 3) } == 0
        {
            return Err(EncodeError::Nesting(depth));
        }
        // SAFETY: the table is on top (caller contract) and 3 slots are free.
        unsafe {
            let t = ffi::lua_gettop(l);
            match self.classify(t)? {
                Shape::Done => ffi::lua_pop(l, 1),
                Shape::Array(len) => {
                    self.s.out.push(b'[');
                    self.s.frames.push(Frame {
                        t,
                        len,
                        i: 0,
                        first: true,
                        fetched: false,
                    });
                }
                Shape::Object { fetched } => {
                    self.s.out.push(b'{');
                    if !fetched {
                        ffi::lua_pushnil(l);
                    }
                    self.s.frames.push(Frame {
                        t,
                        len: OBJECT,
                        i: 0,
                        first: true,
                        fetched,
                    });
                }
            }
        }
        Ok(())
    }

    /// Decides how the table at `t` is written, following lua-cjson's rules.
    ///
    /// # Safety
    /// `t` must be the absolute index of a table, with 2 free slots above
    /// the top.
    unsafe fn classify(&mut self, t: c_int) -> Result<Shape> {
        let l = self.l;
        // SAFETY: `t` is a table; lua_getmetatable pushes at most one value,
        // which is popped right away (the metatables compared against are
        // anchored in the registry, so their addresses are stable).
        let mt = unsafe {
            if ffi::lua_getmetatable(l, t) != 0 {
                let p = ffi::lua_topointer(l, -1);
                ffi::lua_pop(l, 1);
                Some(p)
            } else {
                None
            }
        };
        if mt == Some(self.array_mt) {
            // array_mt forces array encoding of the sequence part (raw
            // length, lua_objlen as in the C module).
            // SAFETY: `t` is a table.
            let len = unsafe { ffi::lua_objlen(l, t) };
            return Ok(Shape::Array(c_int::try_from(len).unwrap_or(c_int::MAX)));
        }
        // SAFETY: forwarded contract.
        match unsafe { self.array_length(t) }? {
            Length::Array(len) if len > 0 || !self.cfg.encode_empty_table_as_object => {
                Ok(Shape::Array(len))
            }
            len if mt == Some(self.empty_array_mt) => {
                if let Length::Object { fetched: true } = len {
                    // SAFETY: drops the fetched key and value.
                    unsafe { ffi::lua_pop(l, 2) };
                }
                self.s.out.extend_from_slice(b"[]");
                Ok(Shape::Done)
            }
            // Known empty: no need to walk it again as an object.
            Length::Array(_) => {
                self.s.out.extend_from_slice(b"{}");
                Ok(Shape::Done)
            }
            Length::Object { fetched } => Ok(Shape::Object { fetched }),
        }
    }

    /// lua-cjson's `lua_array_length`: the largest index when every key is
    /// a positive integer (and the array is not excessively sparse), else
    /// an object.
    ///
    /// # Safety
    /// As `classify`.
    unsafe fn array_length(&self, t: c_int) -> Result<Length> {
        let l = self.l;
        let mut max: f64 = 0.0;
        let mut items: u64 = 0;
        // SAFETY: `t` is a table and 2 slots are free (key and value of the
        // raw lua_next walk). The key is only read with lua_type and
        // lua_tonumber, which never modify the slot.
        unsafe {
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, t) != 0 {
                if ffi::lua_type(l, -2) == ffi::LUA_TNUMBER {
                    let k = ffi::lua_tonumber(l, -2);
                    if is_array_index(k) {
                        max = max.max(k);
                        items += 1;
                        ffi::lua_pop(l, 1);
                        continue;
                    }
                }
                if items == 0 {
                    // The first key: keep the entry for the object walk.
                    return Ok(Length::Object { fetched: true });
                }
                ffi::lua_pop(l, 2);
                return Ok(Length::Object { fetched: false });
            }
        }
        let ratio = self.cfg.encode_sparse_ratio;
        if ratio > 0
            && max > (items as f64) * f64::from(ratio)
            && max > f64::from(self.cfg.encode_sparse_safe)
        {
            if !self.cfg.encode_sparse_convert {
                return Err(EncodeError::Sparse);
            }
            return Ok(Length::Object { fetched: false });
        }
        // `max` is integral and at most i32::MAX (see is_array_index).
        Ok(Length::Array(max as c_int))
    }

    /// Writes the elements of the open frames until the root table is
    /// closed.
    ///
    /// # Safety
    /// The frames must describe the Lua stack (as left by `open`).
    unsafe fn walk(&mut self) -> Result<()> {
        let l = self.l;
        while let Some(top) = self.s.frames.last_mut() {
            let object = top.len == OBJECT;
            // Fetch the next element onto the stack, or close the table.
            // SAFETY: `top.t` is the frame's table; `open` reserved 3 slots
            // for this level, and only key + value are pushed here.
            let more = unsafe {
                if object {
                    std::mem::take(&mut top.fetched) || ffi::lua_next(l, top.t) != 0
                } else if top.i < top.len {
                    top.i += 1;
                    ffi::lua_rawgeti_(l, top.t, top.i);
                    true
                } else {
                    false
                }
            };
            if !more {
                self.s.out.push(if object { b'}' } else { b']' });
                self.s.frames.pop();
                // SAFETY: pops the finished table (lua_next already popped
                // an object's last key).
                unsafe { ffi::lua_pop(l, 1) };
                continue;
            }
            let was_first = std::mem::replace(&mut top.first, false);
            let mark = self.s.out.len();
            if !was_first {
                self.s.out.push(b',');
            }
            // SAFETY: for objects the key is at -2 and the value at -1; for
            // arrays the value is on top. Tables are handed to `open` on top
            // of the stack; scalars are written and popped, leaving the
            // object key for the next lua_next.
            unsafe {
                if object {
                    self.key(-2)?;
                }
                let vt = ffi::lua_type(l, -1);
                if vt == ffi::LUA_TTABLE {
                    let depth = self.s.frames.len() as u32 + 1;
                    self.open(depth)?;
                } else {
                    if !self.scalar(-1, vt)? {
                        // Skipped: drop the comma and key, the next element
                        // is still the first written one.
                        self.s.out.truncate(mark);
                        if let Some(top) = self.s.frames.last_mut() {
                            top.first = was_first;
                        }
                    }
                    ffi::lua_pop(l, 1);
                }
            }
        }
        Ok(())
    }
}
