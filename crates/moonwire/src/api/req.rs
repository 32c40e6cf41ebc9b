//! ngx.req.* reads (ngx_http_lua_req_method.c, _args.c, _headers.c, _misc.c).

use std::ffi::c_int;

use std::rc::Rc;

use bytes::Bytes;
use mlua::{ffi, Lua, Table, Value};

use super::req;
use crate::lua::raw::{self, State};
use crate::request::{Phase, Req};

/// Insert `k = v`, turning repeated keys into arrays in arrival order.
pub fn insert_multi(lua: &Lua, t: &Table, k: mlua::LuaString, v: Value) -> mlua::Result<()> {
    match t.raw_get::<Value>(&k)? {
        Value::Nil => t.raw_set(k, v),
        Value::Table(arr) => arr.raw_push(v),
        old => {
            let arr = lua.create_table_with_capacity(2, 0)?;
            arr.raw_push(old)?;
            arr.raw_push(v)?;
            t.raw_set(k, arr)
        }
    }
}

/// Build the table ngx.req.get_uri_args / ngx.decode_args return.
pub fn args_table(
    lua: &Lua,
    query: &[u8],
    max: usize,
    into: Option<Table>,
) -> mlua::Result<(Table, Option<&'static str>)> {
    let (pairs, truncated) = ngx_util::parse_args(query, max);
    let t = match into {
        Some(t) => t,
        None => lua.create_table_with_capacity(0, pairs.len())?,
    };
    for (k, v) in pairs {
        let v = match v {
            ngx_util::ArgValue::Bool(b) => Value::Boolean(b),
            ngx_util::ArgValue::Str(s) => Value::String(lua.create_string(&s)?),
        };
        insert_multi(lua, &t, lua.create_string(&k)?, v)?;
    }
    Ok((t, truncated.then_some("truncated")))
}

/// ngx.req.get_headers(max?, raw?): names lowercased unless raw, repeats as arrays.
unsafe extern "C-unwind" fn get_headers_c(l: State) -> c_int {
    let rq = match req() {
        Ok(r) => r,
        Err(e) => raw::raise(l, crate::lua::driver::error_message(&e)),
    };
    let max = match ffi::lua_type(l, 1) {
        ffi::LUA_TNUMBER => max_arg(Some(ffi::lua_tonumber(l, 1) as i64)),
        _ => 100,
    };
    let as_sent = ffi::lua_toboolean(l, 2) != 0;
    ffi::lua_settop(l, 0);
    ffi::lua_createtable(l, 0, rq.header_count().min(max) as c_int);
    let mut lower = [0u8; 64];
    let mut truncated = false;
    let mut i = 0;
    rq.for_each_header(|n, v| {
        if i >= max {
            truncated = true;
            return false;
        }
        i += 1;
        if as_sent || n.len() > lower.len() {
            if as_sent {
                raw::push_bytes(l, n);
            } else {
                raw::push_bytes(l, &n.to_ascii_lowercase());
            }
        } else {
            for (d, s) in lower.iter_mut().zip(n) {
                *d = s.to_ascii_lowercase();
            }
            raw::push_bytes(l, &lower[..n.len()]);
        }
        raw::push_bytes(l, v);
        raw::insert_multi(l, 1);
        true
    });
    drop(rq);
    if truncated {
        raw::push_bytes(l, b"truncated");
        return 2;
    }
    1
}

fn max_arg(v: Option<i64>) -> usize {
    match v {
        None => 100,
        Some(n) if n <= 0 => usize::MAX,
        Some(n) => n as usize,
    }
}

pub fn register(lua: &Lua, ngx: &Table, c: &Table) -> mlua::Result<()> {
    let r = lua.create_table()?;
    register_mutation(lua, &r, c)?;
    r.set(
        "get_method",
        lua.create_function(|lua, ()| {
            let rq = req()?;
            lua.create_string(rq.method())
        })?,
    )?;
    r.set(
        "get_uri_args",
        lua.create_function(|lua, (max, tab): (Option<i64>, Option<Table>)| {
            let rq = req()?;
            let args = rq.args.borrow().clone().unwrap_or_default();
            args_table(lua, &args, max_arg(max), tab)
        })?,
    )?;
    // SAFETY: follows the raw-function rule in lua/raw.rs.
    r.set("get_headers", unsafe {
        lua.create_c_function(get_headers_c)?
    })?;
    r.set(
        "http_version",
        lua.create_function(|_, ()| {
            let rq = req()?;
            Ok(match rq.head.version {
                11 => 1.1,
                10 => 1.0,
                _ => 0.9,
            })
        })?,
    )?;
    r.set("start_time", lua.create_function(|_, ()| Ok(req()?.start))?)?;
    r.set(
        "raw_header",
        lua.create_function(|lua, no_line: Option<bool>| {
            let rq = req()?;
            let raw = &rq.head.raw;
            if no_line.unwrap_or(false) {
                let start = memchr::memchr(b'\n', raw)
                    .map(|i| i + 1)
                    .unwrap_or(raw.len());
                lua.create_string(&raw[start..])
            } else {
                lua.create_string(raw)
            }
        })?,
    )?;
    r.set(
        "is_internal",
        lua.create_function(|_, ()| req().map(|_| false))?,
    )?;
    ngx.set("req", r)?;
    Ok(())
}

/// Change the request headers Lua sees and nginx variables read: with
/// `replace`, every header named `name` goes and the values take the place
/// of the first one (appended when there was none); else they are added.
pub fn set_header_in(r: &Req, name: &[u8], values: Vec<Vec<u8>>, replace: bool) {
    let mut h = r.headers_in.borrow_mut();
    let list = h.get_or_insert_with(|| {
        r.head
            .headers()
            .map(|(n, v)| (r.head.raw.slice_ref(n), r.head.raw.slice_ref(v)))
            .collect()
    });
    let mut at = list.len();
    if replace {
        if let Some(i) = list.iter().position(|(n, _)| n.eq_ignore_ascii_case(name)) {
            at = i;
        }
        list.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        at = at.min(list.len());
    }
    let name = Bytes::copy_from_slice(name);
    for (i, v) in values.into_iter().enumerate() {
        list.insert(at + i, (name.clone(), Bytes::from(v)));
    }
}

/// Raise `msg` at the position of the Lua code `level` frames up.
///
/// # Safety
/// As [`raw::raise`].
pub(super) unsafe fn raise_at(l: State, level: c_int, msg: String) -> ! {
    ffi::luaL_where(l, level);
    raw::push_bytes(l, msg.as_bytes());
    drop(msg);
    ffi::lua_concat(l, 2);
    ffi::lua_error(l)
}

fn current() -> Result<Rc<Req>, String> {
    req().map_err(|e| crate::lua::driver::error_message(&e))
}

const METHODS: &[(i64, &str)] = &[
    (0x0002, "GET"),
    (0x0004, "HEAD"),
    (0x0008, "POST"),
    (0x0010, "PUT"),
    (0x0020, "DELETE"),
    (0x0040, "MKCOL"),
    (0x0080, "COPY"),
    (0x0100, "MOVE"),
    (0x0200, "OPTIONS"),
    (0x0400, "PROPFIND"),
    (0x0800, "PROPPATCH"),
    (0x1000, "LOCK"),
    (0x2000, "UNLOCK"),
    (0x4000, "PATCH"),
    (0x8000, "TRACE"),
];

unsafe fn set_method(l: State) -> Result<(), String> {
    let n = ffi::lua_gettop(l);
    if n != 1 {
        return Err(format!("expecting one argument, but got {n}"));
    }
    if ffi::lua_type(l, 1) != ffi::LUA_TNUMBER {
        return Err(format!(
            "bad argument #1 to 'set_method' (number expected, got {})",
            raw::type_name(ffi::lua_type(l, 1))
        ));
    }
    let id = ffi::lua_tonumber(l, 1) as i64;
    let r = current()?;
    match METHODS.iter().find(|(m, _)| *m == id) {
        Some((_, name)) => {
            r.method_override.set(Some(name));
            Ok(())
        }
        None => Err(format!("unsupported HTTP method: {id}")),
    }
}

unsafe extern "C-unwind" fn set_method_c(l: State) -> c_int {
    match set_method(l) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

/// Bytes set_uri refuses unless `binary` is true: controls other than tab, and DEL.
fn unsafe_uri_byte(uri: &[u8]) -> Option<u8> {
    uri.iter()
        .copied()
        .find(|&c| (c < 0x20 && c != b'\t') || c == 0x7f)
}

/// `Ok(true)`: jump (end the handler so the location is looked up again).
unsafe fn set_uri(l: State) -> Result<bool, String> {
    let n = ffi::lua_gettop(l);
    if !(1..=3).contains(&n) {
        return Err(format!("expecting 1, 2 or 3 arguments but seen {n}"));
    }
    let t = ffi::lua_type(l, 1);
    if t != ffi::LUA_TSTRING && t != ffi::LUA_TNUMBER {
        return Err(format!(
            "bad argument #1 to 'set_uri' (string expected, got {})",
            raw::type_name(t)
        ));
    }
    let uri = raw::to_bytes(l, 1);
    if uri.is_empty() {
        return Err("attempt to use zero-length uri".into());
    }
    for i in 2..=n {
        if ffi::lua_type(l, i) != ffi::LUA_TBOOLEAN {
            return Err(format!(
                "bad argument #{i} to 'set_uri' (boolean expected, got {})",
                raw::type_name(ffi::lua_type(l, i))
            ));
        }
    }
    let binary = n >= 3 && ffi::lua_toboolean(l, 3) != 0;
    if !binary {
        if let Some(b) = unsafe_uri_byte(uri) {
            let mut shown = Vec::new();
            for &c in uri {
                if c < 0x20 || c == 0x7f || c == b'"' || c == b'\\' {
                    shown.extend_from_slice(format!("\\x{c:02X}").as_bytes());
                } else {
                    shown.push(c);
                }
            }
            return Err(format!(
                "unsafe byte \"0x{b:02x}\" in uri \"{}\" (maybe you want to set the 'binary' argument?)",
                String::from_utf8_lossy(&shown)
            ));
        }
    }
    let jump = n >= 2 && ffi::lua_toboolean(l, 2) != 0;
    let r = current()?;
    if jump {
        super::check_phase(&[Phase::ServerRewrite, Phase::Rewrite])
            .map_err(|e| crate::lua::driver::error_message(&e))?;
    }
    *r.uri.borrow_mut() = Bytes::copy_from_slice(uri);
    if jump {
        r.jump.set(true);
    }
    Ok(jump)
}

unsafe extern "C-unwind" fn set_uri_c(l: State) -> c_int {
    match set_uri(l) {
        Ok(false) => 0,
        Ok(true) => {
            // like ngx.exit: the rewrite handler ends here and the phase
            // runner sees `jump`
            crate::lua::driver::set_pending(crate::lua::driver::Pending::Exit(0));
            raw::push_yield(l);
            ffi::lua_yield(l, 1)
        }
        Err(e) => raw::raise(l, e),
    }
}

/// Called by the Lua wrapper with a string (tables are encoded there first).
unsafe extern "C-unwind" fn set_uri_args_c(l: State) -> c_int {
    let r = match ffi::lua_type(l, 1) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => current().map(|r| {
            let a = raw::to_bytes(l, 1);
            *r.args.borrow_mut() = Some(Bytes::copy_from_slice(a));
        }),
        t => Err(format!(
            "bad argument #1 to 'set_uri_args' (string, number, or table expected, but got {})",
            raw::type_name(t)
        )),
    };
    match r {
        Ok(()) => 0,
        Err(e) => raise_at(l, 2, e),
    }
}

/// ngx.req.set_header / clear_header / add_header: `mode` 0 set, 1 clear, 2 add.
unsafe fn header_op(l: State, mode: u8) -> Result<(), String> {
    let fname = ["set_header", "clear_header", "add_header"][mode as usize];
    let n = ffi::lua_gettop(l);
    let want = if mode == 1 { 1 } else { 2 };
    if n != want && !(mode == 0 && n == 1) {
        return Err(format!("expecting {want} arguments but seen {n}"));
    }
    let name = match ffi::lua_type(l, 1) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => raw::to_bytes(l, 1).to_vec(),
        t => {
            return Err(format!(
                "bad argument #1 to '{fname}' (string expected, got {})",
                raw::type_name(t)
            ))
        }
    };
    let mut values = Vec::new();
    if mode != 1 {
        match ffi::lua_type(l, 2) {
            ffi::LUA_TNIL | ffi::LUA_TNONE => {}
            ffi::LUA_TSTRING | ffi::LUA_TNUMBER => values.push(raw::to_bytes(l, 2).to_vec()),
            ffi::LUA_TBOOLEAN => values.push(if ffi::lua_toboolean(l, 2) != 0 {
                b"true".to_vec()
            } else {
                b"false".to_vec()
            }),
            ffi::LUA_TTABLE => {
                let len = ffi::lua_objlen(l, 2);
                for i in 1..=len {
                    ffi::lua_rawgeti(l, 2, i as ffi::lua_Integer);
                    let t = ffi::lua_type(l, -1);
                    if t != ffi::LUA_TSTRING && t != ffi::LUA_TNUMBER {
                        ffi::lua_pop(l, 1);
                        return Err(format!(
                            "attempt to set header value of type {}",
                            raw::type_name(t)
                        ));
                    }
                    values.push(raw::to_bytes(l, -1).to_vec());
                    ffi::lua_pop(l, 1);
                }
            }
            t => {
                return Err(format!(
                    "bad argument #2 to '{fname}' (string expected, got {})",
                    raw::type_name(t)
                ))
            }
        }
    }
    // CR and LF would split the header when it is forwarded: OpenResty escapes them
    for v in &mut values {
        if memchr::memchr2(b'\r', b'\n', v).is_some() {
            let mut out = Vec::with_capacity(v.len() + 4);
            for &c in v.iter() {
                match c {
                    b'\r' => out.extend_from_slice(b"%0D"),
                    b'\n' => out.extend_from_slice(b"%0A"),
                    _ => out.push(c),
                }
            }
            *v = out;
        }
    }
    let r = current()?;
    set_header_in(&r, &name, values, mode != 2);
    Ok(())
}

unsafe extern "C-unwind" fn set_header_c(l: State) -> c_int {
    match header_op(l, 0) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

unsafe extern "C-unwind" fn clear_header_c(l: State) -> c_int {
    match header_op(l, 1) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

unsafe extern "C-unwind" fn add_header_c(l: State) -> c_int {
    match header_op(l, 2) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

/// The request-mutation half of ngx.req, and the primitives the Lua glue
/// (req.lua) wraps.
fn register_mutation(lua: &Lua, r: &Table, c: &Table) -> mlua::Result<()> {
    // SAFETY: every function here follows the raw-function rule in lua/raw.rs.
    unsafe {
        r.set("set_method", lua.create_c_function(set_method_c)?)?;
        r.set("set_uri", lua.create_c_function(set_uri_c)?)?;
        r.set("set_header", lua.create_c_function(set_header_c)?)?;
        r.set("clear_header", lua.create_c_function(clear_header_c)?)?;
        c.set("req_set_uri_args", lua.create_c_function(set_uri_args_c)?)?;
        c.set("req_add_header", lua.create_c_function(add_header_c)?)?;
    }
    super::req_body::register(lua, r, c)?;
    super::req_socket::register(lua, r)
}
