//! ngx.say, ngx.print, ngx.flush, ngx.eof, ngx.send_headers (ngx_http_lua_output.c).

use std::ffi::c_int;

use mlua::{ffi, Lua, MultiValue, Table, Value};

use super::{check_phase, req, OUTPUT};
use crate::lua::driver::{set_pending, Pending, Resumer};
use crate::lua::raw::{self, State};
use crate::request::output as out;

/// Append the value at `idx` the way ngx.print renders it; tables are iolists.
///
/// # Safety
/// `l` is the running state and `idx` an absolute index.
unsafe fn render(
    l: State,
    idx: c_int,
    buf: &mut Vec<u8>,
    fname: &str,
    argn: c_int,
    depth: usize,
) -> Result<(), String> {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => buf.extend_from_slice(raw::to_bytes(l, idx)),
        ffi::LUA_TNIL => buf.extend_from_slice(b"nil"),
        ffi::LUA_TBOOLEAN => buf.extend_from_slice(if ffi::lua_toboolean(l, idx) != 0 { b"true" } else { b"false" }),
        ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, idx).is_null() => buf.extend_from_slice(b"null"),
        ffi::LUA_TTABLE => {
            if depth > 100 || ffi::lua_checkstack(l, 4) == 0 {
                return Err(format!("bad argument #{argn} to '{fname}' (nested table too deep)"));
            }
            // every key must be a positive integer; holes up to the largest print as "nil"
            let mut max = 0usize;
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, idx) != 0 {
                ffi::lua_pop(l, 1);
                let k = if ffi::lua_type(l, -1) == ffi::LUA_TNUMBER { ffi::lua_tonumber(l, -1) } else { 0.0 };
                if k < 1.0 || k.fract() != 0.0 {
                    ffi::lua_pop(l, 1);
                    return Err(format!("bad argument #{argn} to '{fname}' (non-array table found)"));
                }
                max = max.max(k as usize);
            }
            for i in 1..=max {
                ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
                let top = ffi::lua_gettop(l);
                let r = match ffi::lua_type(l, top) {
                    ffi::LUA_TSTRING | ffi::LUA_TNUMBER | ffi::LUA_TNIL | ffi::LUA_TBOOLEAN | ffi::LUA_TTABLE => {
                        render(l, top, buf, fname, argn, depth + 1)
                    }
                    ffi::LUA_TLIGHTUSERDATA if ffi::lua_touserdata(l, top).is_null() => render(l, top, buf, fname, argn, depth + 1),
                    t => Err(format!("bad argument #{argn} to '{fname}' (bad data type {} found)", raw::type_name(t))),
                };
                ffi::lua_pop(l, 1);
                r?;
            }
        }
        t => {
            return Err(format!(
                "bad argument #{argn} to '{fname}' (string, number, boolean, nil, ngx.null, or array table expected, but got {})",
                raw::type_name(t)
            ))
        }
    }
    Ok(())
}

/// What cosocket `send` (TCP and UDP) accepts: strings, numbers, nil and booleans at the top;
/// inside (array) tables only strings, numbers and tables.
pub fn render_send(lua: &Lua, v: &Value, buf: &mut Vec<u8>, top: bool) -> mlua::Result<()> {
    match v {
        Value::String(s) => buf.extend_from_slice(&s.as_bytes()),
        Value::Integer(i) => crate::http::push_num_signed(buf, *i),
        Value::Number(n) => super::fmt_number(*n, buf),
        Value::Boolean(true) if top => buf.extend_from_slice(b"true"),
        Value::Boolean(false) if top => buf.extend_from_slice(b"false"),
        Value::Nil if top => buf.extend_from_slice(b"nil"),
        Value::Table(t) => {
            let n = t.raw_len();
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, _) = pair?;
                if !matches!(k, Value::Integer(i) if i >= 1 && (i as usize) <= n) {
                    return Err(super::lua_err(lua, 2, "bad argument #1 to 'send' (non-array table found)"));
                }
            }
            for i in 1..=n {
                render_send(lua, &t.raw_get::<Value>(i)?, buf, false)?;
            }
        }
        other if top => {
            return Err(super::lua_err(
                lua,
                2,
                format!("bad argument #1 to 'send' (string, number, boolean, nil, or array table expected, got {})", other.type_name()),
            ))
        }
        other => return Err(super::lua_err(lua, 2, format!("bad argument #1 to 'send' (bad data type {} found)", other.type_name()))),
    }
    Ok(())
}

/// Success, `nil, err`, or "yield until the output filters are done".
enum Echo {
    Done,
    Fail(&'static str),
    Wait,
}

/// Run `f` (output through the Lua filters) now; if a filter has to wait,
/// register the rest as the coroutine's wait, resumed with `1`.
fn through_filters(f: crate::request::filter::LocalFut) -> bool {
    match crate::request::filter::now_or_later(f) {
        None => false,
        Some(rest) => {
            set_pending(Pending::Wait(Box::pin(async move {
                rest.await;
                let r: Resumer = Box::new(|_| super::one(Value::Integer(1)));
                r
            })));
            true
        }
    }
}

/// ngx.say / ngx.print body.
unsafe fn echo(l: State, newline: bool) -> Result<Echo, String> {
    check_phase(OUTPUT).map_err(|e| crate::lua::driver::error_message(&e))?;
    let r = req().map_err(|e| crate::lua::driver::error_message(&e))?;
    let fname = if newline { "say" } else { "print" };
    let mut resp = r.resp.borrow_mut();
    if resp.eof {
        return Ok(Echo::Fail("seen eof"));
    }
    if crate::request::filter::active(&r) {
        drop(resp);
        let mut buf = Vec::new();
        for i in 1..=ffi::lua_gettop(l) {
            render(l, i, &mut buf, fname, i, 0)?;
        }
        if newline {
            buf.push(b'\n');
        }
        let f = Box::pin(async move { crate::request::filter::emit(&r, buf, false).await });
        return Ok(if through_filters(f) {
            Echo::Wait
        } else {
            Echo::Done
        });
    }
    let mut buf = std::mem::take(&mut resp.scratch);
    buf.clear();
    let n = ffi::lua_gettop(l);
    for i in 1..=n {
        if let Err(e) = render(l, i, &mut buf, fname, i, 0) {
            resp.scratch = buf;
            return Err(e);
        }
    }
    if newline {
        buf.push(b'\n');
    }
    out::write_body(&r, &mut resp, &buf);
    resp.scratch = buf;
    if resp.out.len() >= 64 * 1024 {
        let _ = out::try_flush(&r, &mut resp);
    }
    Ok(Echo::Done)
}

unsafe fn echo_c(l: State, newline: bool) -> c_int {
    match echo(l, newline) {
        Ok(Echo::Done) => {
            ffi::lua_pushinteger(l, 1);
            1
        }
        Ok(Echo::Wait) => {
            raw::push_yield(l);
            ffi::lua_yield(l, 1)
        }
        Ok(Echo::Fail(err)) => {
            ffi::lua_pushnil(l);
            raw::push_bytes(l, err.as_bytes());
            2
        }
        Err(msg) => raw::raise(l, msg),
    }
}

unsafe extern "C-unwind" fn ngx_say(l: State) -> c_int {
    echo_c(l, true)
}

unsafe extern "C-unwind" fn ngx_print(l: State) -> c_int {
    echo_c(l, false)
}

pub fn register(lua: &Lua, ngx: &Table, c: &Table) -> mlua::Result<()> {
    // SAFETY: both follow the raw-function rule in lua/raw.rs.
    ngx.set("say", unsafe { lua.create_c_function(ngx_say)? })?;
    ngx.set("print", unsafe { lua.create_c_function(ngx_print)? })?;
    c.set(
        "send_headers",
        lua.create_function(|_, ()| {
            check_phase(OUTPUT)?;
            let r = req()?;
            let mut resp = r.resp.borrow_mut();
            if resp.headers_sent {
                return Ok((Value::Nil, Some("header already sent")));
            }
            if crate::request::filter::active(&r) {
                drop(resp);
                let f = Box::pin(async move { crate::request::filter::send_head(&r).await });
                if through_filters(f) {
                    return Ok((crate::lua::yield_marker(), None));
                }
                return Ok((Value::Integer(1), None));
            }
            out::send_headers(&r, &mut resp);
            Ok((Value::Integer(1), None))
        })?,
    )?;
    c.set(
        "eof",
        lua.create_function(|_, ()| {
            check_phase(OUTPUT)?;
            let r = req()?;
            let mut resp = r.resp.borrow_mut();
            if resp.eof {
                return Ok((Value::Nil, Some("seen eof")));
            }
            if crate::request::filter::active(&r) {
                drop(resp);
                let f = Box::pin(async move {
                    crate::request::filter::emit(&r, Vec::new(), true).await;
                    let mut resp = r.resp.borrow_mut();
                    let _ = out::try_flush(&r, &mut resp);
                });
                if through_filters(f) {
                    return Ok((crate::lua::yield_marker(), None));
                }
                return Ok((Value::Integer(1), None));
            }
            out::finish(&r, &mut resp);
            let _ = out::try_flush(&r, &mut resp);
            Ok((Value::Integer(1), None))
        })?,
    )?;
    c.set(
        "flush",
        lua.create_function(|_, wait: Option<bool>| {
            check_phase(OUTPUT)?;
            let r = req()?;
            if crate::request::filter::active(&r)
                && !r.header_filtered.get()
                && !r.resp.borrow().headers_sent
            {
                let rr = r.clone();
                let f = Box::pin(async move { crate::request::filter::header_filter(&rr).await });
                if through_filters(f) {
                    // the head's filter waits: flush (without waiting) once it is done
                    return Ok((crate::lua::yield_marker(), None));
                }
            }
            let mut resp = r.resp.borrow_mut();
            if resp.eof {
                return Ok((Value::Nil, Some("seen eof")));
            }
            if !resp.headers_sent && resp.buffered.is_none() {
                out::send_headers(&r, &mut resp);
            } else if let Some(b) = resp.buffered.take() {
                // ngx.flush disables HTTP/1.0 buffering: the head goes out without a length
                out::send_headers(&r, &mut resp);
                out::write_body(&r, &mut resp, &b);
            }
            if out::try_flush(&r, &mut resp).is_err() {
                return Ok((Value::Nil, Some("nginx output filter error")));
            }
            if wait.unwrap_or(false) && !resp.out.is_empty() {
                let pending = std::mem::take(&mut resp.out);
                let rr = r.clone();
                set_pending(Pending::Wait(Box::pin(async move {
                    let res = crate::http::write_all(&rr.conn.stream, &pending).await;
                    let resumer: Resumer = Box::new(move |lua| {
                        let mut mv = MultiValue::new();
                        match res {
                            Ok(()) => mv.push_back(Value::Integer(1)),
                            Err(_) => {
                                rr.resp.borrow_mut().broken = true;
                                mv.push_back(Value::Nil);
                                mv.push_back(Value::String(
                                    lua.create_string("nginx output filter error")?,
                                ));
                            }
                        }
                        Ok(mv)
                    });
                    resumer
                })));
                return Ok((crate::lua::yield_marker(), None));
            }
            Ok((Value::Integer(1), None))
        })?,
    )?;
    Ok(())
}
