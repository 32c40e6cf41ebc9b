//! JSON text -> Lua values.
//!
//! The parser is iterative (an explicit frame stack instead of recursion) so
//! deep documents cannot overflow the Rust stack. Container elements are
//! buffered in a shared stack and the Lua table is created once the
//! container closes, with its exact size, which avoids Lua's incremental
//! rehashing for the common small objects/arrays. Buffering is bounded: mlua
//! keeps every live `Value` in a slot of an auxiliary Lua thread whose stack
//! LuaJIT limits to a few thousand slots, so large containers are flushed
//! into their table early and then filled directly.

use mlua::{IntoLua, LightUserData, Lua, Table, Value};

use crate::number::strtod;
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
    /// Set once the container has been flushed early.
    table: Option<Table>,
    /// Elements already stored in `table` (arrays only).
    stored: usize,
}

/// A buffered container element. Strings stay as byte ranges until stored:
/// valid UTF-8 then goes into the table as `&str`, which mlua pushes
/// directly instead of creating (and later releasing) an mlua reference to
/// an intermediate Lua string.
enum Item {
    Val(Value),
    Str {
        escaped: bool,
        start: usize,
        end: usize,
    },
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
    /// Drops buffered values (left behind by a failed decode) and returns
    /// the memory the buffers still hold, in bytes.
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

/// `t[key] = item`, with string items pushed without an intermediate value.
fn set_value<K: IntoLua>(
    lua: &Lua,
    src: &[u8],
    arena: &[u8],
    t: &Table,
    key: K,
    item: Item,
) -> mlua::Result<()> {
    match item {
        Item::Val(v) => t.raw_set(key, v),
        Item::Str {
            escaped,
            start,
            end,
        } => {
            let bytes = item_bytes(src, arena, escaped, start, end);
            match std::str::from_utf8(bytes) {
                Ok(s) => t.raw_set(key, s),
                Err(_) => t.raw_set(key, lua.create_string(bytes)?),
            }
        }
    }
}

/// `t[key] = value` for an object member.
fn set_member(
    lua: &Lua,
    src: &[u8],
    arena: &[u8],
    t: &Table,
    key: Item,
    value: Item,
) -> mlua::Result<()> {
    match key {
        Item::Val(k) => set_value(lua, src, arena, t, k, value),
        Item::Str {
            escaped,
            start,
            end,
        } => {
            let bytes = item_bytes(src, arena, escaped, start, end);
            match std::str::from_utf8(bytes) {
                Ok(k) => set_value(lua, src, arena, t, k, value),
                Err(_) => set_value(lua, src, arena, t, lua.create_string(bytes)?, value),
            }
        }
    }
}

pub(crate) enum DecodeError {
    Msg(String),
    Lua(mlua::Error),
}

impl From<mlua::Error> for DecodeError {
    fn from(e: mlua::Error) -> Self {
        DecodeError::Lua(e)
    }
}

impl DecodeError {
    pub fn into_message(self) -> String {
        match self {
            DecodeError::Msg(m) => m,
            DecodeError::Lua(e) => e.to_string(),
        }
    }
}

type Result<T> = std::result::Result<T, DecodeError>;

pub(crate) struct Decoder<'a> {
    lua: &'a Lua,
    src: &'a [u8],
    pos: usize,
    depth: u32,
    cfg: Config,
    array_mt: Option<&'a Table>,
    s: &'a mut Scratch,
}

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
    pub fn new(
        lua: &'a Lua,
        src: &'a [u8],
        cfg: Config,
        array_mt: Option<&'a Table>,
        s: &'a mut Scratch,
    ) -> Self {
        s.arena.clear();
        s.pending.clear();
        s.frames.clear();
        Decoder {
            lua,
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
        DecodeError::Msg(format!(
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
        let mut i = start;
        while i < src.len() {
            match src[i] {
                b'"' => {
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
                b'\\' | 0 => break,
                _ => i += 1,
            }
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
                        .position(|&b| b == b'"' || b == b'\\' || b == 0)
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
        let Kind::Str {
            start,
            end,
            escaped,
        } = kind
        else {
            unreachable!("string_item called on a non-string token")
        };
        Item::Str {
            escaped,
            start,
            end,
        }
    }

    fn item_value(&self, item: Item) -> Result<Value> {
        Ok(match item {
            Item::Val(v) => v,
            Item::Str {
                escaped,
                start,
                end,
            } => Value::String(self.lua.create_string(item_bytes(
                self.src,
                &self.s.arena,
                escaped,
                start,
                end,
            ))?),
        })
    }

    fn descend(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > self.cfg.decode_max_depth || self.depth > HARD_DEPTH_LIMIT {
            return Err(DecodeError::Msg(format!(
                "Found too many nested data structures ({}) at character {}",
                self.depth, self.pos
            )));
        }
        Ok(())
    }

    fn new_array(&self, capacity: usize) -> Result<Table> {
        let t = self.lua.create_table_with_capacity(capacity, 0)?;
        if let Some(mt) = self.array_mt {
            t.set_metatable(Some(mt.clone()))?;
        }
        Ok(t)
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

    /// Moves the innermost container's buffered elements into a new table.
    fn flush_top(&mut self, exact: bool) -> Result<Table> {
        let frame = self.s.frames.last().expect("open container");
        let start = frame.start;
        let object = frame.object;
        let count = self.s.pending.len() - start;
        let (lua, src, arena) = (self.lua, self.src, &self.s.arena);
        let table = if object {
            let pairs = count / 2;
            let t = lua.create_table_with_capacity(0, if exact { pairs } else { pairs * 2 })?;
            let mut it = self.s.pending.drain(start..);
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                set_member(lua, src, arena, &t, k, v)?;
            }
            t
        } else {
            let t = lua.create_table_with_capacity(if exact { count } else { count * 2 }, 0)?;
            if let Some(mt) = self.array_mt {
                t.set_metatable(Some(mt.clone()))?;
            }
            for (i, v) in self.s.pending.drain(start..).enumerate() {
                set_value(lua, src, arena, &t, i + 1, v)?;
            }
            t
        };
        let frame = self.s.frames.last_mut().expect("open container");
        if !object {
            frame.stored = count;
        }
        Ok(table)
    }

    /// Adds a completed value to the innermost open container.
    fn add_to_container(&mut self, v: Item) -> Result<()> {
        let frame = self.s.frames.last_mut().expect("open container");
        if let Some(t) = &frame.table {
            let (lua, src, arena) = (self.lua, self.src, &self.s.arena);
            if frame.object {
                let key = self.s.pending.pop().expect("buffered object key");
                set_member(lua, src, arena, t, key, v)?;
            } else {
                frame.stored += 1;
                set_value(lua, src, arena, t, frame.stored, v)?;
            }
            return Ok(());
        }
        self.s.pending.push(v);
        let buffered = self.s.pending.len() - frame.start;
        if buffered >= FRAME_BUFFER_LIMIT || self.s.pending.len() >= TOTAL_BUFFER_LIMIT {
            let t = self.flush_top(false)?;
            self.s.frames.last_mut().expect("open container").table = Some(t);
        }
        Ok(())
    }

    fn close_container(&mut self) -> Result<Value> {
        self.depth -= 1;
        let t = match self
            .s
            .frames
            .last_mut()
            .expect("open container")
            .table
            .take()
        {
            Some(t) => t,
            None => self.flush_top(true)?,
        };
        self.s.frames.pop();
        Ok(Value::Table(t))
    }

    pub fn decode(mut self) -> Result<Value> {
        if self.src.len() >= 2 && (self.src[0] == 0 || self.src[1] == 0) {
            return Err(DecodeError::Msg(
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
                        self.depth -= 1;
                        Item::Val(Value::Table(self.lua.create_table()?))
                    } else {
                        self.s.frames.push(Frame {
                            object: true,
                            start: self.s.pending.len(),
                            table: None,
                            stored: 0,
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
                        self.depth -= 1;
                        Item::Val(Value::Table(self.new_array(0)?))
                    } else {
                        self.s.frames.push(Frame {
                            object: false,
                            start: self.s.pending.len(),
                            table: None,
                            stored: 0,
                        });
                        continue;
                    }
                }
                Kind::Str { .. } => Self::string_item(tok.kind),
                Kind::Num(n) => Item::Val(Value::Number(n)),
                Kind::Bool(b) => Item::Val(Value::Boolean(b)),
                Kind::Null => Item::Val(Value::LightUserData(LightUserData(std::ptr::null_mut()))),
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
                    return self.item_value(val);
                };
                let object = frame.object;
                self.add_to_container(val)?;
                tok = self.next_token();
                match (object, tok.kind) {
                    (true, Kind::ObjEnd) | (false, Kind::ArrEnd) => {
                        val = Item::Val(self.close_container()?);
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
