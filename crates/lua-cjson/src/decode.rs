//! JSON text -> Lua values, over the raw Lua C API.
//!
//! The parser is iterative (an explicit frame stack instead of recursion) so
//! deep documents cannot overflow the Rust stack. Container elements are
//! buffered in a shared stack and the Lua table is created once the
//! container closes, with its exact size, which avoids Lua's incremental
//! rehashing for the common small objects/arrays. Scalars and strings are
//! buffered on the Rust side (strings as byte ranges); completed child
//! tables wait on the Lua stack, in order, above everything their parent
//! has stored there. Buffering is bounded because a C function may use at
//! most ~8000 Lua stack slots (LUAI_MAXCSTACK): large containers are flushed
//! into their table early and then filled directly.

use std::ffi::c_int;

use mlua::ffi;

use crate::number::strtod;
use crate::raw::{push_bytes, State};
use crate::{Config, HARD_DEPTH_LIMIT};

/// Elements (values, or key+value slots for objects) a single container may
/// buffer before its table is created.
const FRAME_BUFFER_LIMIT: usize = 128;
/// Buffered values across all open containers before the innermost one is
/// flushed regardless of its own size.
const TOTAL_BUFFER_LIMIT: usize = 1024;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    ObjBegin,
    ObjEnd,
    ArrBegin,
    ArrEnd,
    /// String contents live in `src[start..end]`, or in `arena[start..end]`
    /// when the literal contained escapes.
    Str {
        start: usize,
        end: usize,
        escaped: bool,
    },
    Num(f64),
    Bool(bool),
    Null,
    Colon,
    Comma,
    End,
    Error(&'static str),
}

impl Kind {
    fn name(&self) -> &'static str {
        match self {
            Kind::ObjBegin => "T_OBJ_BEGIN",
            Kind::ObjEnd => "T_OBJ_END",
            Kind::ArrBegin => "T_ARR_BEGIN",
            Kind::ArrEnd => "T_ARR_END",
            Kind::Str { .. } => "T_STRING",
            Kind::Num(_) => "T_NUMBER",
            Kind::Bool(_) => "T_BOOLEAN",
            Kind::Null => "T_NULL",
            Kind::Colon => "T_COLON",
            Kind::Comma => "T_COMMA",
            Kind::End => "T_END",
            Kind::Error(what) => what,
        }
    }
}

#[derive(Clone, Copy)]
struct Token {
    kind: Kind,
    /// 0-based offset of the token (or of the error) in the input.
    index: usize,
}

struct Frame {
    object: bool,
    /// Where this container's buffered elements begin in `pending`.
    start: usize,
    /// Absolute stack index of the container's table once it has been
    /// flushed early; 0 before.
    table: c_int,
    /// Elements already stored in `table` (arrays only).
    stored: c_int,
    /// Buffered elements that are tables: they are the topmost stack slots.
    tables: c_int,
}

/// A buffered container element.
#[derive(Clone, Copy)]
enum Item {
    Num(f64),
    Bool(bool),
    Null,
    /// Contents in `src[start..end]`, or `arena[start..end]` when escaped.
    Str {
        escaped: bool,
        start: usize,
        end: usize,
    },
    /// A completed container, whose table waits on the Lua stack.
    Table,
}

/// Buffers reused across `decode` calls of one module instance.
#[derive(Default)]
pub(crate) struct Scratch {
    /// Unescaped contents of string literals that contained escapes.
    arena: Vec<u8>,
    pending: Vec<Item>,
    frames: Vec<Frame>,
}

impl Scratch {
    /// Empties the buffers and returns the memory they still hold, in bytes.
    pub fn release(&mut self) -> usize {
        self.pending.clear();
        self.frames.clear();
        self.arena.clear();
        self.arena.capacity()
            + self.pending.capacity() * std::mem::size_of::<Item>()
            + self.frames.capacity() * std::mem::size_of::<Frame>()
    }
}

fn item_bytes<'b>(
    src: &'b [u8],
    arena: &'b [u8],
    escaped: bool,
    start: usize,
    end: usize,
) -> &'b [u8] {
    if escaped {
        &arena[start..end]
    } else {
        &src[start..end]
    }
}

/// Pushes a buffered item. `Item::Table` pushes a copy of the stack slot
/// `*next_table` and advances it to the following buffered table.
///
/// # Safety
/// One free stack slot; for `Item::Table`, `*next_table` must be the slot
/// of that table.
unsafe fn push_item(l: State, src: &[u8], arena: &[u8], item: Item, next_table: &mut c_int) {
    // SAFETY: the caller reserved the slot; the string bytes are Rust-owned
    // (arena) or in the argument string anchored at stack index 1.
    unsafe {
        match item {
            Item::Num(n) => ffi::lua_pushnumber(l, n),
            Item::Bool(b) => ffi::lua_pushboolean(l, c_int::from(b)),
            Item::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
            Item::Str {
                escaped,
                start,
                end,
            } => push_bytes(l, item_bytes(src, arena, escaped, start, end)),
            Item::Table => {
                ffi::lua_pushvalue(l, *next_table);
                *next_table += 1;
            }
        }
    }
}

/// A decoding failure: the message the caller raises (or returns).
pub(crate) struct DecodeError(pub String);

type Result<T> = std::result::Result<T, DecodeError>;

/// Table sizes for lua_createtable (LuaJIT caps them far below this).
fn size_hint(n: usize) -> c_int {
    c_int::try_from(n).unwrap_or(c_int::MAX)
}

pub(crate) struct Decoder<'a> {
    l: State,
    src: &'a [u8],
    pos: usize,
    depth: u32,
    cfg: Config,
    /// Stack (pseudo-)index of `cjson.array_mt` when decoded arrays get it.
    array_mt: Option<c_int>,
    s: &'a mut Scratch,
}

/// Bytes that end a run of plain string contents: the closing quote, an
/// escape, or the NUL that ends the document.
const STRING_STOP: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[0] = true;
    t
};

const fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

fn hex4(src: &[u8], at: usize) -> Option<u32> {
    let digits = src.get(at..at + 4)?;
    let mut v = 0u32;
    for &c in digits {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | u32::from(d);
    }
    Some(v)
}

impl<'a> Decoder<'a> {
    /// `src` must stay valid (anchored on the Lua stack) while decoding.
    pub fn new(
        l: State,
        src: &'a [u8],
        cfg: Config,
        array_mt: Option<c_int>,
        s: &'a mut Scratch,
    ) -> Self {
        s.arena.clear();
        s.pending.clear();
        s.frames.clear();
        Decoder {
            l,
            src,
            pos: 0,
            depth: 0,
            cfg,
            array_mt,
            s,
        }
    }

    /// The C module reads a NUL-terminated buffer, so an embedded NUL ends
    /// the document exactly like the end of the string does.
    #[inline]
    fn byte(&self, i: usize) -> u8 {
        self.src.get(i).copied().unwrap_or(0)
    }

    fn parse_error(&self, expected: &str, tok: &Token) -> DecodeError {
        DecodeError(format!(
            "Expected {expected} but found {} at character {}",
            tok.kind.name(),
            tok.index + 1
        ))
    }

    /// lua-cjson's strict-number check: numbers JSON forbids but strtod()
    /// would accept (leading '+', leading zeros, hex, inf, nan).
    fn is_invalid_number(&self) -> bool {
        let mut p = self.pos;
        match self.byte(p) {
            b'+' => return true,
            b'-' => p += 1,
            _ => {}
        }
        let c = self.byte(p);
        if c == b'0' {
            let c2 = self.byte(p + 1);
            return (c2 | 0x20) == b'x' || c2.is_ascii_digit();
        }
        if c <= b'9' {
            return false;
        }
        let rest = &self.src[p.min(self.src.len())..];
        let ci = |pat: &[u8]| {
            rest.len() >= 3 && rest[..3].iter().zip(pat).all(|(&a, &b)| (a | 0x20) == b)
        };
        ci(b"inf") || ci(b"nan")
    }

    fn number_token(&mut self) -> Token {
        let index = self.pos;
        match strtod(&self.src[self.pos..]) {
            Some((v, n)) => {
                self.pos += n;
                Token {
                    kind: Kind::Num(v),
                    index,
                }
            }
            None => Token {
                kind: Kind::Error("invalid number"),
                index,
            },
        }
    }

    fn string_token(&mut self) -> Token {
        let index = self.pos;
        let src = self.src;
        let start = self.pos + 1;
        let rest = &src[start..];
        let mut i = start
            + rest
                .iter()
                .position(|&b| STRING_STOP[b as usize])
                .unwrap_or(rest.len());
        if src.get(i) == Some(&b'"') {
            self.pos = i + 1;
            return Token {
                kind: Kind::Str {
                    start,
                    end: i,
                    escaped: false,
                },
                index,
            };
        }
        let buf = &mut self.s.arena;
        let arena_start = buf.len();
        buf.extend_from_slice(&src[start..i]);
        loop {
            let c = src.get(i).copied().unwrap_or(0);
            match c {
                b'"' => break,
                0 => {
                    self.pos = i;
                    return Token {
                        kind: Kind::Error("unexpected end of string"),
                        index: i,
                    };
                }
                b'\\' => {
                    let esc = match src.get(i + 1).copied().unwrap_or(0) {
                        b'"' => b'"',
                        b'\\' => b'\\',
                        b'/' => b'/',
                        b'b' => 0x08,
                        b'f' => 0x0c,
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'u' => {
                            match unicode_escape(src, i) {
                                Some((ch, len)) => {
                                    let mut tmp = [0u8; 4];
                                    buf.extend_from_slice(ch.encode_utf8(&mut tmp).as_bytes());
                                    i += len;
                                }
                                None => {
                                    self.pos = i;
                                    return Token {
                                        kind: Kind::Error("invalid unicode escape code"),
                                        index: i,
                                    };
                                }
                            }
                            continue;
                        }
                        _ => {
                            self.pos = i;
                            return Token {
                                kind: Kind::Error("invalid escape code"),
                                index: i,
                            };
                        }
                    };
                    buf.push(esc);
                    i += 2;
                }
                _ => {
                    // Copy the run up to the next special byte in one go.
                    let run_end = src[i..]
                        .iter()
                        .position(|&b| STRING_STOP[b as usize])
                        .map_or(src.len(), |p| i + p);
                    buf.extend_from_slice(&src[i..run_end]);
                    i = run_end;
                }
            }
        }
        self.pos = i + 1;
        Token {
            kind: Kind::Str {
                start: arena_start,
                end: self.s.arena.len(),
                escaped: true,
            },
            index,
        }
    }

    fn next_token(&mut self) -> Token {
        while is_ws(self.byte(self.pos)) {
            self.pos += 1;
        }
        let index = self.pos;
        let c = self.byte(self.pos);
        let single = |kind| Token { kind, index };
        let kind = match c {
            b'{' => Kind::ObjBegin,
            b'}' => Kind::ObjEnd,
            b'[' => Kind::ArrBegin,
            b']' => Kind::ArrEnd,
            b',' => Kind::Comma,
            b':' => Kind::Colon,
            0 => return single(Kind::End),
            b'"' => return self.string_token(),
            b'-' | b'0'..=b'9' => {
                if !self.cfg.decode_invalid_numbers && self.is_invalid_number() {
                    return single(Kind::Error("invalid number"));
                }
                return self.number_token();
            }
            b't' | b'f' | b'n' | b'i' | b'I' | b'N' | b'+' => {
                let rest = &self.src[self.pos..];
                if rest.starts_with(b"true") {
                    self.pos += 4;
                    return single(Kind::Bool(true));
                }
                if rest.starts_with(b"false") {
                    self.pos += 5;
                    return single(Kind::Bool(false));
                }
                if rest.starts_with(b"null") {
                    self.pos += 4;
                    return single(Kind::Null);
                }
                if self.cfg.decode_invalid_numbers && self.is_invalid_number() {
                    return self.number_token();
                }
                return single(Kind::Error("invalid token"));
            }
            _ => return single(Kind::Error("invalid token")),
        };
        self.pos += 1;
        single(kind)
    }

    fn string_item(kind: Kind) -> Item {
        match kind {
            Kind::Str {
                start,
                end,
                escaped,
            } => Item::Str {
                escaped,
                start,
                end,
            },
            // Only called on string tokens.
            _ => Item::Null,
        }
    }

    /// Nesting beyond the limits, or a Lua stack that cannot grow any
    /// further (which the C module reports the same way).
    fn nesting_error(depth: u32, pos: usize) -> DecodeError {
        DecodeError(format!(
            "Found too many nested data structures ({depth}) at character {pos}"
        ))
    }

    fn internal_error() -> DecodeError {
        DecodeError("cjson: internal decoder error".into())
    }

    fn descend(&mut self) -> Result<()> {
        self.depth += 1;
        // Three slots cover creating an empty container here.
        if self.depth > self.cfg.decode_max_depth
            || self.depth > HARD_DEPTH_LIMIT
            // SAFETY: lua_checkstack only grows the stack.
            || unsafe { ffi::lua_checkstack(self.l, 3) } == 0
        {
            return Err(Self::nesting_error(self.depth, self.pos));
        }
        Ok(())
    }

    /// Sets `cjson.array_mt` on the array table at `t` if configured.
    ///
    /// # Safety
    /// `t` is the absolute index of a table; one free stack slot.
    unsafe fn mark_array(&self, t: c_int) {
        if let Some(mt) = self.array_mt {
            // SAFETY: see the function's contract; `mt` is a valid
            // (pseudo-)index of a table.
            unsafe {
                ffi::lua_pushvalue(self.l, mt);
                ffi::lua_setmetatable(self.l, t);
            }
        }
    }

    /// Reads an object key (the current token must be a string) and the
    /// colon after it; the key is buffered until its value is complete.
    fn object_key(&mut self, tok: Token) -> Result<()> {
        if !matches!(tok.kind, Kind::Str { .. }) {
            return Err(self.parse_error("object key string", &tok));
        }
        self.s.pending.push(Self::string_item(tok.kind));
        let colon = self.next_token();
        if colon.kind != Kind::Colon {
            return Err(self.parse_error("colon", &colon));
        }
        Ok(())
    }

    /// Moves the innermost container's buffered elements into a new table,
    /// which ends up on top of the stack in place of the buffered tables.
    fn flush_top(&mut self, exact: bool) -> Result<()> {
        let l = self.l;
        let (object, start, tables) = match self.s.frames.last() {
            Some(f) => (f.object, f.start, f.tables),
            None => return Err(Self::internal_error()),
        };
        // SAFETY: lua_checkstack only grows the stack.
        if unsafe { ffi::lua_checkstack(l, 3) } == 0 {
            return Err(Self::nesting_error(self.depth, self.pos));
        }
        let s = &mut *self.s;
        let count = s.pending.len() - start;
        let items = &s.pending[start..];
        // SAFETY: 3 slots are free (table, key, value). The buffered tables
        // are the topmost `tables` slots, in the order of their items.
        unsafe {
            let top = ffi::lua_gettop(l);
            let first_table = top - tables + 1;
            let mut next_table = first_table;
            let t = top + 1;
            if object {
                let pairs = count / 2;
                ffi::lua_createtable(l, 0, size_hint(if exact { pairs } else { pairs * 2 }));
                for pair in items.chunks_exact(2) {
                    push_item(l, self.src, &s.arena, pair[0], &mut next_table);
                    push_item(l, self.src, &s.arena, pair[1], &mut next_table);
                    ffi::lua_rawset(l, t);
                }
            } else {
                ffi::lua_createtable(l, size_hint(if exact { count } else { count * 2 }), 0);
                if let Some(mt) = self.array_mt {
                    ffi::lua_pushvalue(l, mt);
                    ffi::lua_setmetatable(l, t);
                }
                for (i, item) in items.iter().enumerate() {
                    push_item(l, self.src, &s.arena, *item, &mut next_table);
                    ffi::lua_rawseti_(l, t, size_hint(i + 1));
                }
            }
            if tables > 0 {
                ffi::lua_replace(l, first_table);
                ffi::lua_settop(l, first_table);
            }
        }
        s.pending.truncate(start);
        if let Some(frame) = s.frames.last_mut() {
            frame.tables = 0;
            if !object {
                frame.stored = size_hint(count);
            }
        }
        Ok(())
    }

    /// Adds a completed value to the innermost open container. An
    /// `Item::Table` value is the table on top of the stack.
    fn add_to_container(&mut self, v: Item) -> Result<()> {
        let (l, depth, pos) = (self.l, self.depth, self.pos);
        let s = &mut *self.s;
        let Some(frame) = s.frames.last_mut() else {
            return Err(Self::internal_error());
        };
        if frame.table != 0 {
            let t = frame.table;
            // SAFETY: lua_checkstack only grows the stack.
            if unsafe { ffi::lua_checkstack(l, 2) } == 0 {
                return Err(Self::nesting_error(depth, pos));
            }
            let mut no_table = 0;
            // SAFETY: 2 free slots; `t` is the frame's table and a table
            // value is the top slot. Keys and scalars push no table.
            unsafe {
                if frame.object {
                    let Some(key) = s.pending.pop() else {
                        return Err(Self::internal_error());
                    };
                    push_item(l, self.src, &s.arena, key, &mut no_table);
                    if matches!(v, Item::Table) {
                        ffi::lua_insert(l, -2);
                    } else {
                        push_item(l, self.src, &s.arena, v, &mut no_table);
                    }
                    ffi::lua_rawset(l, t);
                } else {
                    frame.stored += 1;
                    if !matches!(v, Item::Table) {
                        push_item(l, self.src, &s.arena, v, &mut no_table);
                    }
                    ffi::lua_rawseti_(l, t, frame.stored);
                }
            }
            return Ok(());
        }
        if matches!(v, Item::Table) {
            frame.tables += 1;
        }
        s.pending.push(v);
        let buffered = s.pending.len() - frame.start;
        if buffered >= FRAME_BUFFER_LIMIT || s.pending.len() >= TOTAL_BUFFER_LIMIT {
            self.flush_top(false)?;
            // SAFETY: reads the stack top.
            let t = unsafe { ffi::lua_gettop(l) };
            if let Some(frame) = self.s.frames.last_mut() {
                frame.table = t;
            }
        }
        Ok(())
    }

    /// Closes the innermost container, leaving its table on top of the stack.
    fn close_container(&mut self) -> Result<Item> {
        self.depth -= 1;
        let flushed = match self.s.frames.last() {
            Some(f) => f.table != 0,
            None => return Err(Self::internal_error()),
        };
        // A flushed table is already on top: its later elements were stored
        // (and popped) directly.
        if !flushed {
            self.flush_top(true)?;
        }
        self.s.frames.pop();
        Ok(Item::Table)
    }

    /// Pushes a new empty container's table.
    fn empty_container(&mut self, array: bool) -> Item {
        self.depth -= 1;
        // SAFETY: `descend` reserved the slots.
        unsafe {
            ffi::lua_createtable(self.l, 0, 0);
            if array {
                self.mark_array(ffi::lua_gettop(self.l));
            }
        }
        Item::Table
    }

    /// Parses the whole document and leaves its value on top of the stack.
    /// On error the stack holds leftovers (the caller resets it).
    ///
    /// # Safety
    /// Must run inside a C function of `self.l` whose stack holds nothing
    /// above the argument string (or the number it was converted from).
    pub unsafe fn decode(mut self) -> Result<()> {
        if self.src.len() >= 2 && (self.src[0] == 0 || self.src[1] == 0) {
            return Err(DecodeError(
                "JSON parser does not support UTF-16 or UTF-32".into(),
            ));
        }
        let mut tok = self.next_token();
        loop {
            // `tok` starts a value.
            let mut val = match tok.kind {
                Kind::ObjBegin => {
                    self.descend()?;
                    tok = self.next_token();
                    if tok.kind == Kind::ObjEnd {
                        self.empty_container(false)
                    } else {
                        self.s.frames.push(Frame {
                            object: true,
                            start: self.s.pending.len(),
                            table: 0,
                            stored: 0,
                            tables: 0,
                        });
                        self.object_key(tok)?;
                        tok = self.next_token();
                        continue;
                    }
                }
                Kind::ArrBegin => {
                    self.descend()?;
                    tok = self.next_token();
                    if tok.kind == Kind::ArrEnd {
                        self.empty_container(true)
                    } else {
                        self.s.frames.push(Frame {
                            object: false,
                            start: self.s.pending.len(),
                            table: 0,
                            stored: 0,
                            tables: 0,
                        });
                        continue;
                    }
                }
                Kind::Str { .. } => Self::string_item(tok.kind),
                Kind::Num(n) => Item::Num(n),
                Kind::Bool(b) => Item::Bool(b),
                Kind::Null => Item::Null,
                _ => return Err(self.parse_error("value", &tok)),
            };
            // Attach the completed value, closing as many containers as the
            // following tokens end.
            loop {
                let Some(frame) = self.s.frames.last() else {
                    let end = self.next_token();
                    if end.kind != Kind::End {
                        return Err(self.parse_error("the end", &end));
                    }
                    let mut no_table = 0;
                    // A table result is already on top.
                    if !matches!(val, Item::Table) {
                        // SAFETY: a scalar result goes into the C function's
                        // LUA_MINSTACK slots (nothing else is on the stack).
                        unsafe {
                            push_item(self.l, self.src, &self.s.arena, val, &mut no_table);
                        }
                    }
                    return Ok(());
                };
                let object = frame.object;
                self.add_to_container(val)?;
                tok = self.next_token();
                match (object, tok.kind) {
                    (true, Kind::ObjEnd) | (false, Kind::ArrEnd) => {
                        val = self.close_container()?;
                    }
                    (true, Kind::Comma) => {
                        tok = self.next_token();
                        self.object_key(tok)?;
                        tok = self.next_token();
                        break;
                    }
                    (false, Kind::Comma) => {
                        tok = self.next_token();
                        break;
                    }
                    (true, _) => return Err(self.parse_error("comma or object end", &tok)),
                    (false, _) => return Err(self.parse_error("comma or array end", &tok)),
                }
            }
        }
    }
}

/// Decodes `\uXXXX` (and a following low surrogate) starting at the
/// backslash at `at`. Returns the character and the escape length.
fn unicode_escape(src: &[u8], at: usize) -> Option<(char, usize)> {
    let cp = hex4(src, at + 2)?;
    if cp & 0xF800 != 0xD800 {
        return char::from_u32(cp).map(|c| (c, 6));
    }
    // A surrogate must be a high one immediately followed by an escaped low.
    if cp & 0x400 != 0 {
        return None;
    }
    if src.get(at + 6) != Some(&b'\\') || src.get(at + 7) != Some(&b'u') {
        return None;
    }
    let low = hex4(src, at + 8)?;
    if low & 0xFC00 != 0xDC00 {
        return None;
    }
    let cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000;
    char::from_u32(cp).map(|c| (c, 12))
}
