//! What crosses between Lua and an extension: owned values (no Lua handle,
//! so they may be sent to any thread and outlive the request), the
//! arguments of one call, and the two ways a call can fail.

use std::ffi::c_int;

use mlua::ffi;

use crate::lua::raw::{self, State};

/// A Lua value copied out of (or into) the VM.
///
/// Lua numbers that hold an integer (|n| < 2^63) arrive as [`Value::Int`],
/// others as [`Value::Num`]. A table whose keys are exactly `1..=n` arrives
/// as [`Value::Array`] (an empty table too), any other table as
/// [`Value::Map`]. `ngx.null` (and `cjson.null`) is [`Value::Null`], the
/// way to put "no value" inside a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Nil,
    Null,
    Bool(bool),
    Int(i64),
    Num(f64),
    /// Lua strings are bytes: not necessarily UTF-8.
    Str(Vec<u8>),
    Array(Vec<Value>),
    Map(Vec<(Value, Value)>),
}

impl Value {
    /// A table from key/value pairs: `Value::map([("id", 1.into())])`.
    pub fn map<K: Into<Value>>(pairs: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(pairs.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// Lua's name for the type (`nil`, `boolean`, `number`, `string`,
    /// `table`, `userdata` for null).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "nil",
            Value::Null => "userdata",
            Value::Bool(_) => "boolean",
            Value::Int(_) | Value::Num(_) => "number",
            Value::Str(_) => "string",
            Value::Array(_) | Value::Map(_) => "table",
        }
    }

    pub fn is_nil(&self) -> bool {
        matches!(self, Value::Nil)
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Integers, and floats without a fractional part.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Num(n) if n.fract() == 0.0 && n.abs() < 9.2e18 => Some(*n as i64),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Num(n) => Some(*n),
            _ => None,
        }
    }

    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The string, if it is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The value stored under string key `key` of a table.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| k.as_bytes() == Some(key.as_bytes()))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}
impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i.into())
    }
}
impl From<u32> for Value {
    fn from(i: u32) -> Value {
        Value::Int(i.into())
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Num(n)
    }
}
impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.as_bytes().to_vec())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s.into_bytes())
    }
}
impl From<Vec<u8>> for Value {
    fn from(s: Vec<u8>) -> Value {
        Value::Str(s)
    }
}
impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Value {
        Value::Array(a)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map(Into::into).unwrap_or(Value::Nil)
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// A recoverable failure: the Lua caller gets `nil, msg` (OpenResty's
    /// convention, e.g. `"timeout"`, `"connection refused"`).
    Fail(String),
    /// Misuse: raised as a Lua error with the caller's position prepended
    /// (`content_by_lua(nginx.conf:12):3: bad argument #1 to 'hash' ...`).
    /// Only possible before the call waits; see [`Module`](super::Module).
    Raise(String),
}

impl Error {
    pub fn fail(msg: impl Into<String>) -> Error {
        Error::Fail(msg.into())
    }

    pub fn raise(msg: impl Into<String>) -> Error {
        Error::Raise(msg.into())
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Fail(m) | Error::Raise(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// The arguments of one call, with checks that raise Lua's own messages
/// (`bad argument #2 to 'query' (table expected, got string)`).
#[derive(Debug, Clone)]
pub struct Args {
    name: &'static str,
    vals: Vec<Value>,
}

impl Args {
    pub(crate) fn new(name: &'static str, vals: Vec<Value>) -> Args {
        Args { name, vals }
    }

    /// The Lua-visible function name (for messages).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// How many arguments the caller passed (trailing `nil`s included).
    pub fn len(&self) -> usize {
        self.vals.len()
    }

    pub fn is_empty(&self) -> bool {
        self.vals.is_empty()
    }

    /// Argument `n` (1-based, as Lua counts); `Nil` past the end.
    pub fn get(&self, n: usize) -> &Value {
        n.checked_sub(1)
            .and_then(|i| self.vals.get(i))
            .unwrap_or(&Value::Nil)
    }

    pub fn into_vec(self) -> Vec<Value> {
        self.vals
    }

    /// `bad argument #n to 'name' (msg)`, raised.
    pub fn arg_error(&self, n: usize, msg: impl std::fmt::Display) -> Error {
        Error::Raise(format!("bad argument #{n} to '{}' ({msg})", self.name))
    }

    fn type_error(&self, n: usize, expected: &str) -> Error {
        let got = if n > self.vals.len() {
            "no value"
        } else {
            self.get(n).type_name()
        };
        self.arg_error(n, format_args!("{expected} expected, got {got}"))
    }

    /// A string argument; numbers are converted as Lua does (`luaL_checklstring`).
    pub fn string(&self, n: usize) -> Result<Vec<u8>> {
        match self.get(n) {
            Value::Str(s) => Ok(s.clone()),
            Value::Int(i) => Ok(i.to_string().into_bytes()),
            Value::Num(x) => {
                let mut out = Vec::new();
                crate::api::fmt_number(*x, &mut out);
                Ok(out)
            }
            _ => Err(self.type_error(n, "string")),
        }
    }

    /// A string argument that must be UTF-8 text.
    pub fn text(&self, n: usize) -> Result<String> {
        String::from_utf8(self.string(n)?).map_err(|_| self.arg_error(n, "invalid UTF-8 string"))
    }

    /// A number argument; numeric strings are converted (`luaL_checknumber`).
    pub fn number(&self, n: usize) -> Result<f64> {
        match self.get(n) {
            Value::Int(i) => Ok(*i as f64),
            Value::Num(x) => Ok(*x),
            Value::Str(s) => std::str::from_utf8(s)
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .ok_or_else(|| self.type_error(n, "number")),
            _ => Err(self.type_error(n, "number")),
        }
    }

    /// A number argument truncated to an integer (`luaL_checkinteger`).
    pub fn integer(&self, n: usize) -> Result<i64> {
        self.number(n).map(|x| x as i64)
    }

    /// A table argument (an [`Value::Array`] or [`Value::Map`]).
    pub fn table(&self, n: usize) -> Result<&Value> {
        match self.get(n) {
            v @ (Value::Array(_) | Value::Map(_)) => Ok(v),
            _ => Err(self.type_error(n, "table")),
        }
    }

    /// Like [`table`](Self::table), `None` for `nil` or a missing argument.
    pub fn opt_table(&self, n: usize) -> Result<Option<&Value>> {
        match self.get(n) {
            Value::Nil => Ok(None),
            _ => self.table(n).map(Some),
        }
    }
}

/// Tables nested deeper than this (or cyclic ones) are refused.
const MAX_DEPTH: u32 = 64;

/// Why a Lua value could not be copied out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// A value of this type (`function`, `userdata`, `thread`, `cdata`).
    Type(&'static str),
    /// Tables nested deeper than `MAX_DEPTH` (or a cycle).
    Deep,
}

/// Copy the Lua value at `idx` out of the VM.
///
/// # Safety
/// `idx` is an absolute index of `l`'s stack.
pub(crate) unsafe fn read(
    l: State,
    idx: c_int,
    depth: u32,
) -> std::result::Result<Value, ReadError> {
    Ok(match ffi::lua_type(l, idx) {
        ffi::LUA_TNIL | ffi::LUA_TNONE => Value::Nil,
        ffi::LUA_TBOOLEAN => Value::Bool(ffi::lua_toboolean(l, idx) != 0),
        ffi::LUA_TNUMBER => {
            let n = ffi::lua_tonumber(l, idx);
            if n.fract() == 0.0 && n.abs() < 9.2e18 {
                Value::Int(n as i64)
            } else {
                Value::Num(n)
            }
        }
        ffi::LUA_TSTRING => Value::Str(raw::to_bytes(l, idx).to_vec()),
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, idx).is_null() => Value::Null,
        ffi::LUA_TTABLE => {
            if depth >= MAX_DEPTH || ffi::lua_checkstack(l, 3) == 0 {
                return Err(ReadError::Deep);
            }
            let mut pairs = Vec::new();
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, idx) != 0 {
                let top = ffi::lua_gettop(l);
                // keys are read from a copy: lua_tolstring on a number key would confuse lua_next
                ffi::lua_pushvalue(l, top - 1);
                let k = read(l, top + 1, depth + 1);
                let v = read(l, top, depth + 1);
                ffi::lua_settop(l, top - 1);
                match (k, v) {
                    (Ok(k), Ok(v)) => pairs.push((k, v)),
                    (Err(e), _) | (_, Err(e)) => {
                        ffi::lua_settop(l, top - 2);
                        return Err(e);
                    }
                }
            }
            into_table(pairs)
        }
        t => return Err(ReadError::Type(raw::type_name(t))),
    })
}

/// An array when the keys are exactly 1..=n, else a map.
fn into_table(mut pairs: Vec<(Value, Value)>) -> Value {
    let n = pairs.len();
    let dense = pairs
        .iter()
        .all(|(k, _)| matches!(k, Value::Int(i) if *i >= 1 && (*i as usize) <= n));
    if !dense {
        return Value::Map(pairs);
    }
    pairs.sort_by_key(|(k, _)| match k {
        Value::Int(i) => *i,
        _ => 0,
    });
    // distinct integer keys in 1..=n: sorted, they are exactly 1..=n
    Value::Array(pairs.into_iter().map(|(_, v)| v).collect())
}

/// Push `v` on `l`'s stack. `Err` when the stack cannot grow (absurd nesting).
///
/// # Safety
/// `l` is a valid state.
pub(crate) unsafe fn push(l: State, v: &Value) -> std::result::Result<(), &'static str> {
    if ffi::lua_checkstack(l, 3) == 0 {
        return Err("too many nested tables");
    }
    match v {
        Value::Nil => ffi::lua_pushnil(l),
        Value::Null => ffi::lua_pushlightuserdata(l, std::ptr::null_mut()),
        Value::Bool(b) => ffi::lua_pushboolean(l, *b as c_int),
        Value::Int(i) => ffi::lua_pushnumber(l, *i as f64),
        Value::Num(n) => ffi::lua_pushnumber(l, *n),
        Value::Str(s) => raw::push_bytes(l, s),
        Value::Array(a) => {
            ffi::lua_createtable(l, a.len().min(c_int::MAX as usize) as c_int, 0);
            for (i, x) in a.iter().enumerate() {
                push(l, x)?;
                ffi::lua_rawseti(l, -2, (i + 1) as ffi::lua_Integer);
            }
        }
        Value::Map(m) => {
            ffi::lua_createtable(l, 0, m.len().min(c_int::MAX as usize) as c_int);
            for (k, x) in m {
                // a nil or NaN key cannot be stored in a Lua table
                let nan = matches!(k, Value::Num(n) if n.is_nan());
                if k.is_nil() || nan {
                    continue;
                }
                push(l, k)?;
                push(l, x)?;
                ffi::lua_rawset(l, -3);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_integer_keys_make_an_array() {
        let t = into_table(vec![
            (Value::Int(2), "b".into()),
            (Value::Int(1), "a".into()),
        ]);
        assert_eq!(t, Value::Array(vec!["a".into(), "b".into()]));
        let t = into_table(vec![(Value::Int(2), "b".into())]);
        assert!(matches!(t, Value::Map(_)));
        assert_eq!(into_table(vec![]), Value::Array(vec![]));
    }

    #[test]
    fn args_checks_use_lua_messages() {
        let a = Args::new("f", vec!["x".into(), Value::Int(3), "4.5".into()]);
        assert_eq!(a.string(1).unwrap(), b"x");
        assert_eq!(a.string(2).unwrap(), b"3");
        assert_eq!(a.number(3).unwrap(), 4.5);
        assert_eq!(
            a.number(1),
            Err(Error::Raise(
                "bad argument #1 to 'f' (number expected, got string)".into()
            ))
        );
        assert_eq!(
            a.table(4),
            Err(Error::Raise(
                "bad argument #4 to 'f' (table expected, got no value)".into()
            ))
        );
        assert_eq!(a.opt_table(4), Ok(None));
    }

    #[test]
    fn map_lookup_and_conversions() {
        let m = Value::map([("id", Value::Int(7)), ("name", "x".into())]);
        assert_eq!(m.get("id").and_then(Value::as_i64), Some(7));
        assert_eq!(m.get("name").and_then(Value::as_str), Some("x"));
        assert_eq!(m.get("nope"), None);
        assert_eq!(Value::Num(2.0).as_i64(), Some(2));
        assert_eq!(Value::from(None::<i64>), Value::Nil);
    }
}
