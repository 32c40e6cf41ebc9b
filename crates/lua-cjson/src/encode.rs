//! Lua value -> JSON text.

use mlua::{Table, Value};

use crate::number::format_g;
use crate::{Config, InvalidNumbers, Shared, HARD_DEPTH_LIMIT};

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

pub(crate) fn push_string(out: &mut Vec<u8>, s: &[u8], escape_slash: bool) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in s.iter().enumerate() {
        let class = ESCAPE_CLASS[b as usize];
        if class == 0 || (class == 2 && !escape_slash) {
            continue;
        }
        out.extend_from_slice(&s[run..i]);
        push_escape(out, b);
        run = i + 1;
    }
    out.extend_from_slice(&s[run..]);
    out.push(b'"');
}

/// Lua's own type names (as `type()` / `lua_typename` report them), used in
/// lua-cjson's error messages.
pub(crate) fn lua_type_name(v: &Value) -> &'static str {
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

/// Encoding failure. Kept small and formatted only once it reaches the
/// caller, because it travels through every recursive frame.
pub(crate) enum EncodeError {
    Nesting(u32),
    Sparse,
    BadKey(&'static str),
    Unsupported(&'static str),
    InvalidNumber,
    Lua(Box<mlua::Error>),
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
            EncodeError::Lua(e) => e.to_string(),
        }
    }
}

fn lua_err(e: mlua::Error) -> EncodeError {
    EncodeError::Lua(Box::new(e))
}

type Result<T> = std::result::Result<T, EncodeError>;

// Out-of-line so that mlua's stack bookkeeping does not enlarge the
// recursive frame.
#[inline(never)]
fn raw_index(t: &Table, i: usize) -> Result<Value> {
    t.raw_get(i).map_err(lua_err)
}

/// Whether `k` counts as an array index for lua-cjson: a positive integral
/// number. Beyond C int range the C module's index conversion overflows and
/// the table ends up an object, so such keys are not indexes here.
fn is_array_index(k: &Value) -> bool {
    match *k {
        Value::Integer(i) => i >= 1 && i <= i64::from(i32::MAX),
        Value::Number(n) => n >= 1.0 && n.floor() == n && n <= f64::from(i32::MAX),
        _ => false,
    }
}

/// Error used only to end a `Table::for_each` walk early; the real outcome
/// is carried separately. Building it does not allocate.
fn stop_iteration() -> mlua::Error {
    mlua::Error::RuntimeError(String::new())
}

/// Nesting handled by plain recursion; deeper levels switch to an explicit
/// stack so that no document can exhaust the thread's stack (a recursive
/// level costs a few hundred bytes, far more in unoptimised builds).
const RECURSION_LIMIT: u32 = 100;

enum Shape {
    /// Already written in full (an empty `[]` or `{}`).
    Done,
    Array(usize),
    Object,
}

pub(crate) struct Encoder<'a> {
    pub out: Vec<u8>,
    cfg: Config,
    shared: &'a Shared,
    /// Whether tables may try the single-pass encodings. Cleared below
    /// a table whose attempt was abandoned, so that no subtree is encoded
    /// more than twice (nested retries would otherwise multiply).
    speculate: bool,
}

impl<'a> Encoder<'a> {
    pub fn new(out: Vec<u8>, cfg: Config, shared: &'a Shared) -> Self {
        Encoder {
            out,
            cfg,
            shared,
            speculate: true,
        }
    }

    pub fn encode(&mut self, v: &Value) -> Result<()> {
        match v {
            Value::Table(t) => self.table(t, 0),
            other => self.scalar(other).map(|_| ()),
        }
    }

    fn number(&mut self, n: f64) -> Result<()> {
        if n.is_finite() {
            format_g(&mut self.out, n, self.cfg.encode_number_precision);
            return Ok(());
        }
        let text: &[u8] = match self.cfg.encode_invalid_numbers {
            InvalidNumbers::Off => return Err(EncodeError::InvalidNumber),
            InvalidNumbers::Null => b"null",
            InvalidNumbers::On if n.is_nan() => b"NaN",
            InvalidNumbers::On if n < 0.0 => b"-Infinity",
            InvalidNumbers::On => b"Infinity",
        };
        self.out.extend_from_slice(text);
        Ok(())
    }

    /// Appends a non-table value. `Ok(false)`: skipped (unsupported type with
    /// `encode_skip_unsupported_value_types` on).
    #[inline(never)]
    fn scalar(&mut self, v: &Value) -> Result<bool> {
        match v {
            Value::Nil => self.out.extend_from_slice(b"null"),
            Value::Boolean(true) => self.out.extend_from_slice(b"true"),
            Value::Boolean(false) => self.out.extend_from_slice(b"false"),
            Value::Integer(i) => self.number(*i as f64)?,
            Value::Number(n) => self.number(*n)?,
            Value::String(s) => push_string(
                &mut self.out,
                &s.as_bytes(),
                self.cfg.encode_escape_forward_slash,
            ),
            Value::LightUserData(p) if p.0.is_null() => self.out.extend_from_slice(b"null"),
            Value::LightUserData(p) if *p == crate::empty_array_ptr() => {
                self.out.extend_from_slice(b"[]")
            }
            _ if self.cfg.encode_skip_unsupported_value_types => return Ok(false),
            other => return Err(EncodeError::Unsupported(lua_type_name(other))),
        }
        Ok(true)
    }

    #[inline(never)]
    fn key(&mut self, k: &Value) -> Result<()> {
        match k {
            Value::String(s) => push_string(
                &mut self.out,
                &s.as_bytes(),
                self.cfg.encode_escape_forward_slash,
            ),
            Value::Integer(i) => {
                self.out.push(b'"');
                self.number(*i as f64)?;
                self.out.push(b'"');
            }
            Value::Number(n) => {
                self.out.push(b'"');
                self.number(*n)?;
                self.out.push(b'"');
            }
            other => return Err(EncodeError::BadKey(lua_type_name(other))),
        }
        self.out.push(b':');
        Ok(())
    }

    fn check_depth(&self, depth: u32) -> Result<()> {
        if depth > self.cfg.encode_max_depth || depth > HARD_DEPTH_LIMIT {
            return Err(EncodeError::Nesting(depth));
        }
        Ok(())
    }

    /// Decides how a table is written, following lua-cjson's rules.
    #[inline(never)]
    fn classify(&mut self, t: &Table, depth: u32) -> Result<Shape> {
        self.check_depth(depth)?;
        let mt = t.metatable().map(|m| m.to_pointer());
        if mt.is_some() && mt == Some(self.shared.array_mt_ptr) {
            // array_mt forces array encoding of the sequence part (raw
            // length, as lua_objlen gives in the C module).
            return Ok(Shape::Array(t.raw_len()));
        }
        match self.array_length(t)? {
            Some(len) if len > 0 || !self.cfg.encode_empty_table_as_object => Ok(Shape::Array(len)),
            _ if mt.is_some() && mt == Some(self.shared.empty_array_mt_ptr) => {
                self.out.extend_from_slice(b"[]");
                Ok(Shape::Done)
            }
            // Known empty: no need to walk it again as an object.
            Some(_) => {
                self.out.extend_from_slice(b"{}");
                Ok(Shape::Done)
            }
            None => Ok(Shape::Object),
        }
    }

    /// `Some(max_index)` when every key is a positive integer (and the array
    /// is not excessively sparse), `None` when the table must be an object.
    fn array_length(&self, t: &Table) -> Result<Option<usize>> {
        let mut max: f64 = 0.0;
        let mut items: u64 = 0;
        let index = |k: Value| -> Option<f64> {
            match k {
                Value::Integer(i) if is_array_index(&k) => Some(i as f64),
                Value::Number(n) if is_array_index(&k) => Some(n),
                _ => None,
            }
        };
        // Values are read as bool, which needs no mlua reference. A table
        // with a sequence part is most likely an array: walk it with
        // for_each (cheapest per entry). Others are usually objects that fail
        // on the first key, where pairs() avoids for_each's protected call.
        if t.raw_len() > 0 {
            let mut is_array = true;
            let res = t.for_each(|k: Value, _: bool| match index(k) {
                Some(k) => {
                    max = max.max(k);
                    items += 1;
                    Ok(())
                }
                None => {
                    is_array = false;
                    Err(stop_iteration())
                }
            });
            if !is_array {
                return Ok(None);
            }
            res.map_err(lua_err)?;
        } else {
            for pair in t.pairs::<Value, bool>() {
                let (k, _) = pair.map_err(lua_err)?;
                match index(k) {
                    Some(k) => {
                        max = max.max(k);
                        items += 1;
                    }
                    None => return Ok(None),
                }
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
            return Ok(None);
        }
        Ok(Some(max as usize))
    }

    /// Recursive walk for the first `RECURSION_LIMIT` levels.
    ///
    /// Tables without a metatable take single-pass fast paths (one
    /// `for_each` walk instead of a classification walk plus an encoding
    /// walk); when a guess turns out wrong the output is rolled back and the
    /// general path runs with guessing disabled for that subtree, so no
    /// subtree is encoded more than twice.
    fn table(&mut self, t: &Table, depth: u32) -> Result<()> {
        let depth = depth + 1;
        if depth > RECURSION_LIMIT {
            return self.table_iterative(t, depth);
        }
        if !self.speculate || t.metatable().is_some() {
            return self.table_general(t, depth);
        }
        self.check_depth(depth)?;
        let done = if t.raw_len() > 0 {
            self.sequence(t, depth)?
        } else if t.is_empty() {
            self.out
                .extend_from_slice(if self.cfg.encode_empty_table_as_object {
                    b"{}"
                } else {
                    b"[]"
                });
            true
        } else {
            self.plain_object(t, depth)?
        };
        if done {
            return Ok(());
        }
        self.speculate = false;
        let res = self.table_general(t, depth);
        self.speculate = true;
        res
    }

    /// Single-pass encoding of a table expected to be an object. Returns
    /// false (nothing written) when every key was a positive integer, i.e.
    /// the table may have to be an array.
    fn plain_object(&mut self, t: &Table, depth: u32) -> Result<bool> {
        let mark = self.out.len();
        self.out.push(b'{');
        let mut first = true;
        let mut object_key_seen = false;
        let mut failure = None;
        let res = t.for_each(|k: Value, v: Value| {
            if !object_key_seen && !is_array_index(&k) {
                object_key_seen = true;
            }
            match self.entry(Some(&k), &v, depth, &mut first) {
                Ok(()) => Ok(()),
                Err(e) => {
                    failure = Some(e);
                    Err(stop_iteration())
                }
            }
        });
        if let Some(e) = failure {
            // As an object, the general path fails identically (same next()
            // order); only a table that may still be an array needs it.
            if !object_key_seen && self.array_length(t)?.is_some() {
                self.out.truncate(mark);
                return Ok(false);
            }
            return Err(e);
        }
        res.map_err(lua_err)?;
        if !object_key_seen {
            self.out.truncate(mark);
            return Ok(false);
        }
        self.out.push(b'}');
        Ok(true)
    }

    /// Single-pass encoding of a plain sequence: walks the table once and
    /// writes elements while the keys come as 1, 2, 3, ... Returns false
    /// (with nothing written) as soon as the table turns out to be anything
    /// else; the general two-pass path then decides.
    fn sequence(&mut self, t: &Table, depth: u32) -> Result<bool> {
        let mark = self.out.len();
        self.out.push(b'[');
        let mut expected: i64 = 1;
        let mut first = true;
        let mut not_sequence = false;
        let mut failure = None;
        let res = t.for_each(|k: Value, v: Value| {
            let in_order = match k {
                Value::Integer(i) => i == expected,
                Value::Number(n) => n == expected as f64,
                _ => false,
            };
            if !in_order {
                not_sequence = true;
                return Err(stop_iteration());
            }
            expected += 1;
            match self.entry(None, &v, depth, &mut first) {
                Ok(()) => Ok(()),
                Err(e) => {
                    failure = Some(e);
                    Err(stop_iteration())
                }
            }
        });
        if not_sequence {
            self.out.truncate(mark);
            return Ok(false);
        }
        if let Some(e) = failure {
            // The general path would visit the same elements in the same
            // order (as an array or, in next() order, as an object) and fail
            // identically, unless the sparse-array check rejects the table
            // first.
            self.array_length(t)?;
            return Err(e);
        }
        res.map_err(lua_err)?;
        self.out.push(b']');
        Ok(true)
    }

    /// lua-cjson's classification followed by array or object encoding.
    fn table_general(&mut self, t: &Table, depth: u32) -> Result<()> {
        match self.classify(t, depth)? {
            Shape::Done => {}
            Shape::Array(len) => {
                self.out.push(b'[');
                let mut first = true;
                for i in 1..=len {
                    let v = raw_index(t, i)?;
                    self.entry(None, &v, depth, &mut first)?;
                }
                self.out.push(b']');
            }
            Shape::Object => {
                self.out.push(b'{');
                let mut first = true;
                let mut failure = None;
                // for_each walks the table with raw lua_next inside one
                // protected call, far cheaper per entry than mlua's pairs().
                let res = t.for_each(|k: Value, v: Value| {
                    match self.entry(Some(&k), &v, depth, &mut first) {
                        Ok(()) => Ok(()),
                        Err(e) => {
                            failure = Some(e);
                            Err(stop_iteration())
                        }
                    }
                });
                if let Some(e) = failure {
                    return Err(e);
                }
                res.map_err(lua_err)?;
                self.out.push(b'}');
            }
        }
        Ok(())
    }

    /// Appends one array element (`key` None) or object member.
    fn entry(
        &mut self,
        key: Option<&Value>,
        v: &Value,
        depth: u32,
        first: &mut bool,
    ) -> Result<()> {
        let mark = self.out.len();
        if !*first {
            self.out.push(b',');
        }
        if let Some(k) = key {
            self.key(k)?;
        }
        let emitted = match v {
            Value::Table(child) => self.table(child, depth).map(|_| true)?,
            other => self.scalar(other)?,
        };
        if emitted {
            *first = false;
        } else {
            self.out.truncate(mark);
        }
        Ok(())
    }

    /// Writes the opening of table `t` at `depth` and pushes its frame
    /// (nothing is pushed when the table was written whole).
    #[inline(never)]
    fn open(&mut self, t: Table, depth: u32, stack: &mut Vec<Frame>) -> Result<()> {
        match self.classify(&t, depth)? {
            Shape::Done => {}
            Shape::Array(len) => {
                self.out.push(b'[');
                stack.push(Frame::Array {
                    t,
                    len,
                    i: 0,
                    first: true,
                });
            }
            Shape::Object => {
                self.out.push(b'{');
                stack.push(Frame::Object {
                    t,
                    key: Value::Nil,
                    first: true,
                });
            }
        }
        Ok(())
    }

    /// Same output as `table`, for deeply nested data: traversal state lives
    /// in a heap-allocated stack and objects are walked with Lua's raw
    /// `next`, which (unlike mlua's borrowing pairs iterator) can be resumed
    /// from a stored key.
    fn table_iterative(&mut self, root: &Table, depth: u32) -> Result<()> {
        let mut stack: Vec<Frame> = Vec::new();
        self.open(root.clone(), depth, &mut stack)?;
        while let Some(top) = stack.last_mut() {
            let (item, first) = match top {
                Frame::Array { t, len, i, first } => {
                    if *i < *len {
                        *i += 1;
                        (Some(raw_index(t, *i)?), first)
                    } else {
                        (None, first)
                    }
                }
                Frame::Object { t, key, first } => {
                    let (k, v): (Value, Value) = self
                        .shared
                        .next
                        .call((t.clone(), std::mem::take(key)))
                        .map_err(lua_err)?;
                    if k.is_nil() {
                        (None, first)
                    } else {
                        *key = k;
                        (Some(v), first)
                    }
                }
            };
            let Some(v) = item else {
                let close = match top {
                    Frame::Array { .. } => b']',
                    Frame::Object { .. } => b'}',
                };
                self.out.push(close);
                stack.pop();
                continue;
            };
            let mark = self.out.len();
            if !*first {
                self.out.push(b',');
            }
            let was_first = std::mem::replace(first, false);
            if let Frame::Object { key, .. } = top {
                let key = key.clone();
                self.key(&key)?;
            }
            match v {
                Value::Table(child) => {
                    let child_depth = depth + stack.len() as u32;
                    self.open(child, child_depth, &mut stack)?;
                }
                other => {
                    if !self.scalar(&other)? {
                        self.out.truncate(mark);
                        if let Some(Frame::Array { first, .. } | Frame::Object { first, .. }) =
                            stack.last_mut()
                        {
                            *first = was_first;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

enum Frame {
    Array {
        t: Table,
        len: usize,
        i: usize,
        first: bool,
    },
    Object {
        t: Table,
        key: Value,
        first: bool,
    },
}
