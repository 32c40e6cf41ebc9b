//! ngx.say, ngx.print, ngx.flush, ngx.eof, ngx.send_headers (ngx_http_lua_output.c).

use mlua::{Lua, MultiValue, Table, Value};

use super::{check_phase, fmt_number, is_null, req, OUTPUT};
use crate::lua::driver::{set_pending, Pending, Resumer};
use crate::request::output as out;

/// Append one argument the way ngx.print renders it; tables are iolists.
fn render(
    v: &Value,
    buf: &mut Vec<u8>,
    fname: &str,
    argn: usize,
    depth: usize,
) -> mlua::Result<()> {
    match v {
        Value::String(s) => buf.extend_from_slice(&s.as_bytes()),
        Value::Integer(i) => crate::http::push_num_signed(buf, *i as i64),
        Value::Number(n) => fmt_number(*n, buf),
        Value::Nil => buf.extend_from_slice(b"nil"),
        Value::Boolean(b) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
        v if is_null(v) => buf.extend_from_slice(b"null"),
        Value::Table(t) => {
            if depth > 100 {
                return Err(mlua::Error::runtime(format!("bad argument #{argn} to '{fname}' (nested table too deep)")));
            }
            let n = t.raw_len();
            // every key must be a positive integer within the array part
            let mut count = 0;
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, _) = pair?;
                match k {
                    Value::Integer(i) if i >= 1 && (i as usize) <= n => count += 1,
                    Value::Number(f) if f >= 1.0 && f.fract() == 0.0 && (f as usize) <= n => count += 1,
                    _ => return Err(mlua::Error::runtime(format!("bad argument #{argn} to '{fname}' (non-array table found)"))),
                }
            }
            if count != n {
                return Err(mlua::Error::runtime(format!("bad argument #{argn} to '{fname}' (non-array table found)")));
            }
            for i in 1..=n {
                let e: Value = t.raw_get(i)?;
                match e {
                    Value::Nil | Value::Boolean(_) => {
                        return Err(mlua::Error::runtime(format!(
                            "bad argument #{argn} to '{fname}' (bad data type {} found)",
                            e.type_name()
                        )))
                    }
                    _ => render(&e, buf, fname, argn, depth + 1)?,
                }
            }
        }
        other => {
            return Err(mlua::Error::runtime(format!(
                "bad argument #{argn} to '{fname}' (string, number, boolean, nil, ngx.null, or array table expected, got {})",
                other.type_name()
            )))
        }
    }
    Ok(())
}

fn echo(args: MultiValue, newline: bool) -> mlua::Result<(Value, Option<&'static str>)> {
    check_phase(OUTPUT)?;
    let r = req()?;
    let fname = if newline { "say" } else { "print" };
    let mut resp = r.resp.borrow_mut();
    if resp.eof {
        return Ok((Value::Nil, Some("seen eof")));
    }
    let mut buf = std::mem::take(&mut resp.scratch);
    buf.clear();
    for (i, v) in args.iter().enumerate() {
        render(v, &mut buf, fname, i + 1, 0)?;
    }
    if newline {
        buf.push(b'\n');
    }
    out::write_body(&r, &mut resp, &buf);
    resp.scratch = buf;
    if resp.out.len() >= 64 * 1024 {
        let _ = out::try_flush(&r, &mut resp);
    }
    Ok((Value::Integer(1), None))
}

pub fn register(lua: &Lua, ngx: &Table, c: &Table) -> mlua::Result<()> {
    ngx.set(
        "say",
        lua.create_function(|_, args: MultiValue| echo(args, true))?,
    )?;
    ngx.set(
        "print",
        lua.create_function(|_, args: MultiValue| echo(args, false))?,
    )?;
    ngx.set(
        "send_headers",
        lua.create_function(|_, ()| {
            check_phase(OUTPUT)?;
            let r = req()?;
            let mut resp = r.resp.borrow_mut();
            if resp.headers_sent {
                return Ok((Value::Nil, Some("header already sent")));
            }
            out::send_headers(&r, &mut resp);
            Ok((Value::Integer(1), None))
        })?,
    )?;
    ngx.set(
        "eof",
        lua.create_function(|_, ()| {
            check_phase(OUTPUT)?;
            let r = req()?;
            let mut resp = r.resp.borrow_mut();
            if resp.eof {
                return Ok((Value::Nil, Some("seen eof")));
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
