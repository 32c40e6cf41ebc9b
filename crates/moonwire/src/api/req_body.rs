//! ngx.req.read_body, discard_body, get_body_data, get_body_file,
//! set_body_data, set_body_file, init_body, append_body, finish_body and
//! get_post_args (ngx_http_lua_req_body.c, ngx_http_lua_args.c).
//!
//! All raw `lua_CFunction`s (see lua/raw.rs): reading a POST body and its
//! arguments is on the path of every form request.

use std::ffi::c_int;
use std::rc::Rc;

use mlua::{ffi, Lua, MultiValue, Table, Value};

use super::{check_phase, req};
use crate::lua::driver::{self, error_message, Pending, Resumer};
use crate::lua::raw::{self, State};
use crate::request::body::{self, BodyData, BodyFile, State as BodyState};
use crate::request::{Phase, Req};

fn current() -> Result<Rc<Req>, String> {
    req().map_err(|e| error_message(&e))
}

fn nargs_exact(l: State, want: c_int, what: &str) -> Result<(), String> {
    // SAFETY: l is the running state.
    let n = unsafe { ffi::lua_gettop(l) };
    if n != want {
        return Err(format!("expecting {what} but seen {n}"));
    }
    Ok(())
}

/// What read_body does: `Ok(true)` when it must wait for the body.
fn read_body(l: State) -> Result<bool, String> {
    nargs_exact(l, 0, "0 arguments")?;
    let r = current()?;
    check_phase(&[
        Phase::ServerRewrite,
        Phase::Rewrite,
        Phase::Access,
        Phase::Content,
    ])
    .map_err(|e| error_message(&e))?;
    if body::read_preread(&r) {
        return Ok(false);
    }
    driver::set_pending(Pending::Wait(Box::pin(async move {
        let res = body::read_body(&r).await;
        let resumer: Resumer = Box::new(move |_| {
            let mut mv = MultiValue::new();
            if let Err(status) = res {
                mv.push_back(Value::Integer(status as i64));
            }
            Ok(mv)
        });
        resumer
    })));
    Ok(true)
}

/// Returns the yield marker when the body must be waited for; the Lua
/// wrapper yields it and calls ngx.exit with the status a failed read gives
/// (413, 400, 408), as nginx finalizes the request then.
unsafe extern "C-unwind" fn read_body_c(l: State) -> c_int {
    match read_body(l) {
        Ok(false) => 0,
        Ok(true) => {
            raw::push_yield(l);
            1
        }
        Err(e) => super::req::raise_at(l, 2, e),
    }
}

unsafe extern "C-unwind" fn discard_body_c(l: State) -> c_int {
    let r = nargs_exact(l, 0, "0 arguments").and_then(|()| current());
    match r {
        Ok(r) => {
            body::discard(&r);
            0
        }
        Err(e) => raw::raise(l, e),
    }
}

unsafe extern "C-unwind" fn get_body_data_c(l: State) -> c_int {
    let max = match ffi::lua_gettop(l) {
        0 => None,
        1 if ffi::lua_type(l, 1) == ffi::LUA_TNUMBER => {
            Some(ffi::lua_tonumber(l, 1).max(0.0) as usize)
        }
        1 if ffi::lua_isnil(l, 1) != 0 => None,
        1 => raw::raise(
            l,
            format!(
                "bad argument #1 to 'get_body_data' (number expected, got {})",
                raw::type_name(ffi::lua_type(l, 1))
            ),
        ),
        n => raw::raise(l, format!("expecting 0 or 1 arguments but seen {n}")),
    };
    let r = match current() {
        Ok(r) => r,
        Err(e) => raw::raise(l, e),
    };
    let data = r.body.borrow().mem().cloned();
    drop(r);
    match data {
        Some(d) if !d.is_empty() => {
            let n = max.filter(|&m| m > 0).unwrap_or(d.len()).min(d.len());
            raw::push_bytes(l, &d[..n]);
        }
        _ => ffi::lua_pushnil(l),
    }
    1
}

unsafe extern "C-unwind" fn get_body_file_c(l: State) -> c_int {
    let r = match nargs_exact(l, 0, "0 arguments").and_then(|()| current()) {
        Ok(r) => r,
        Err(e) => raw::raise(l, e),
    };
    let path = r
        .body
        .borrow()
        .file()
        .map(|f| f.path.as_os_str().as_encoded_bytes().to_vec());
    drop(r);
    match path {
        Some(p) => raw::push_bytes(l, &p),
        None => ffi::lua_pushnil(l),
    }
    1
}

/// The checks set_body_data, set_body_file and init_body share.
fn body_writable(r: &Req) -> Result<(), String> {
    match r.body.borrow().state {
        BodyState::Discarded => Err("request body already discarded asynchronously".into()),
        BodyState::Unread | BodyState::Reading => Err("request body not read yet".into()),
        _ => Ok(()),
    }
}

/// The Content-Length request header follows the body, as nginx rewrites it.
fn sync_content_length(r: &Req) {
    let len = body::data_len(r);
    super::req::set_header_in(
        r,
        b"Content-Length",
        vec![len.to_string().into_bytes()],
        true,
    );
}

unsafe fn set_body_data(l: State) -> Result<(), String> {
    nargs_exact(l, 1, "1 arguments")?;
    if ffi::lua_type(l, 1) != ffi::LUA_TSTRING && ffi::lua_type(l, 1) != ffi::LUA_TNUMBER {
        return Err(format!(
            "bad argument #1 to 'set_body_data' (string expected, got {})",
            raw::type_name(ffi::lua_type(l, 1))
        ));
    }
    let data = raw::to_bytes(l, 1);
    let r = current()?;
    body_writable(&r)?;
    let d = (!data.is_empty()).then(|| BodyData::Mem(bytes::Bytes::copy_from_slice(data)));
    body::set_data(&r, d);
    sync_content_length(&r);
    Ok(())
}

unsafe extern "C-unwind" fn set_body_data_c(l: State) -> c_int {
    match set_body_data(l) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

unsafe fn set_body_file(l: State) -> Result<(), String> {
    let n = ffi::lua_gettop(l);
    if n != 1 && n != 2 {
        return Err(format!("expecting 1 or 2 arguments but seen {n}"));
    }
    if ffi::lua_type(l, 1) != ffi::LUA_TSTRING {
        return Err(format!(
            "bad argument #1 to 'set_body_file' (string expected, got {})",
            raw::type_name(ffi::lua_type(l, 1))
        ));
    }
    let clean = if n == 2 {
        if ffi::lua_type(l, 2) != ffi::LUA_TBOOLEAN {
            return Err(format!(
                "bad argument #2 to 'set_body_file' (boolean expected, got {})",
                raw::type_name(ffi::lua_type(l, 2))
            ));
        }
        ffi::lua_toboolean(l, 2) != 0
    } else {
        false
    };
    let name = String::from_utf8_lossy(raw::to_bytes(l, 1)).into_owned();
    let r = current()?;
    body_writable(&r)?;
    let len = match std::fs::metadata(&name) {
        Ok(m) if m.is_file() => m.len(),
        _ => return Err(format!("stat() \"{name}\" failed")),
    };
    let file = BodyFile {
        path: name.into(),
        len,
        clean,
    };
    // an empty file is an empty body (and, with auto_clean, gone at once)
    body::set_data(&r, (len > 0).then_some(BodyData::File(file)));
    sync_content_length(&r);
    Ok(())
}

unsafe extern "C-unwind" fn set_body_file_c(l: State) -> c_int {
    match set_body_file(l) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

unsafe fn init_body(l: State) -> Result<(), String> {
    let n = ffi::lua_gettop(l);
    if n > 1 {
        return Err(format!("expecting 0 or 1 argument but seen {n}"));
    }
    let size = if n == 1 {
        if ffi::lua_type(l, 1) != ffi::LUA_TNUMBER {
            return Err(format!(
                "bad argument #1 to 'init_body' (number expected, got {})",
                raw::type_name(ffi::lua_type(l, 1))
            ));
        }
        let v = ffi::lua_tonumber(l, 1) as i64;
        if v < 0 {
            return Err(format!("bad size argument: {v}"));
        }
        Some(v as usize)
    } else {
        None
    };
    let r = current()?;
    body_writable(&r)?;
    let cap = size.unwrap_or(r.loc.client_body_buffer_size as usize);
    body::init(&r, cap);
    Ok(())
}

unsafe extern "C-unwind" fn init_body_c(l: State) -> c_int {
    match init_body(l) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

unsafe fn append_body(l: State) -> Result<(), String> {
    nargs_exact(l, 1, "1 arguments")?;
    if ffi::lua_type(l, 1) != ffi::LUA_TSTRING && ffi::lua_type(l, 1) != ffi::LUA_TNUMBER {
        return Err(format!(
            "bad argument #1 to 'append_body' (string expected, got {})",
            raw::type_name(ffi::lua_type(l, 1))
        ));
    }
    let data = raw::to_bytes(l, 1);
    let r = current()?;
    if !body::append(&r, data)? {
        return Err("request_body not initialized".into());
    }
    Ok(())
}

unsafe extern "C-unwind" fn append_body_c(l: State) -> c_int {
    match append_body(l) {
        Ok(()) => 0,
        Err(e) => raw::raise(l, e),
    }
}

unsafe extern "C-unwind" fn finish_body_c(l: State) -> c_int {
    let r = nargs_exact(l, 0, "0 argument").and_then(|()| current());
    let r = match r {
        Ok(r) => r,
        Err(e) => raw::raise(l, e),
    };
    if !body::finish_building(&r) {
        drop(r);
        raw::raise(l, "request_body not initialized".into());
    }
    sync_content_length(&r);
    0
}

/// Push `key = value` of one `key[=value]` item into the table at index 1
/// (a key without `=` is `true`; an empty key is skipped).
///
/// # Safety
/// `l` is the running state with the result table at index 1.
unsafe fn push_arg(l: State, item: &[u8]) {
    let (key, value) = match memchr::memchr(b'=', item) {
        Some(eq) => (&item[..eq], Some(&item[eq + 1..])),
        None => (item, None),
    };
    let push = |s: &[u8]| {
        if memchr::memchr2(b'%', b'+', s).is_some() {
            raw::push_bytes(l, &ngx_util::unescape_uri(s));
        } else {
            raw::push_bytes(l, s);
        }
    };
    push(key);
    if ffi::lua_objlen(l, -1) == 0 {
        ffi::lua_pop(l, 1);
        return;
    }
    match value {
        Some(v) => push(v),
        None => ffi::lua_pushboolean(l, 1),
    }
    raw::insert_multi(l, 1);
}

/// ngx.req.get_post_args(max?): the form arguments of a body read into memory.
unsafe extern "C-unwind" fn get_post_args_c(l: State) -> c_int {
    let max = match ffi::lua_gettop(l) {
        0 => ngx_util::DEFAULT_MAX_ARGS,
        1 if ffi::lua_type(l, 1) == ffi::LUA_TNUMBER => {
            let v = ffi::lua_tonumber(l, 1) as i64;
            if v <= 0 {
                0
            } else {
                v as usize
            }
        }
        1 => raw::raise(
            l,
            format!(
                "bad argument #1 to 'get_post_args' (number expected, got {})",
                raw::type_name(ffi::lua_type(l, 1))
            ),
        ),
        n => raw::raise(l, format!("expecting 0 or 1 arguments but seen {n}")),
    };
    let r = match current() {
        Ok(r) => r,
        Err(e) => raw::raise(l, e),
    };
    let (state, data, in_file) = {
        let b = r.body.borrow();
        (b.state, b.mem().cloned(), b.file().is_some())
    };
    drop(r);
    ffi::lua_settop(l, 0);
    if matches!(state, BodyState::Unread | BodyState::Reading) {
        drop(data);
        raw::raise(
            l,
            "no request body found; maybe you should turn on lua_need_request_body?".into(),
        );
    }
    if in_file {
        ffi::lua_pushnil(l);
        raw::push_bytes(l, b"request body in temp file not supported");
        return 2;
    }
    let data = data.unwrap_or_default();
    // ngx_util::parse_args's rules (max counts `&`, empty keys are skipped),
    // pushing straight from the body when nothing needs unescaping
    ffi::lua_createtable(l, 0, 4);
    let mut items = data.split(|&b| b == b'&').peekable();
    let mut separators = 0;
    let mut truncated = false;
    while let Some(item) = items.next() {
        push_arg(l, item);
        if items.peek().is_some() {
            separators += 1;
            if max > 0 && separators == max {
                truncated = true;
                break;
            }
        }
    }
    drop(data);
    if truncated {
        raw::push_bytes(l, b"truncated");
        return 2;
    }
    1
}

pub fn register(lua: &Lua, ngx_req: &Table, c: &Table) -> mlua::Result<()> {
    // SAFETY: every function here follows the raw-function rule in lua/raw.rs.
    unsafe {
        c.set("read_body", lua.create_c_function(read_body_c)?)?;
        ngx_req.set("discard_body", lua.create_c_function(discard_body_c)?)?;
        ngx_req.set("get_body_data", lua.create_c_function(get_body_data_c)?)?;
        ngx_req.set("get_body_file", lua.create_c_function(get_body_file_c)?)?;
        ngx_req.set("set_body_data", lua.create_c_function(set_body_data_c)?)?;
        ngx_req.set("set_body_file", lua.create_c_function(set_body_file_c)?)?;
        ngx_req.set("init_body", lua.create_c_function(init_body_c)?)?;
        ngx_req.set("append_body", lua.create_c_function(append_body_c)?)?;
        ngx_req.set("finish_body", lua.create_c_function(finish_body_c)?)?;
        ngx_req.set("get_post_args", lua.create_c_function(get_post_args_c)?)?;
    }
    Ok(())
}
