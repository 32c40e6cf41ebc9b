//! ngx.header, ngx.status, ngx.headers_sent, ngx.resp.get_headers
//! (ngx_http_lua_headers.c, _headers_out.c, _misc.c).

use mlua::{Lua, Table, Value};

use super::req;
use super::req::insert_multi;
use crate::log::Level;

/// `content_type` -> `content-type`, as lua_transform_underscores_in_response_headers does.
fn header_name(k: &mlua::LuaString) -> mlua::Result<String> {
    let b = k.as_bytes();
    Ok(String::from_utf8_lossy(&b).replace('_', "-"))
}

fn value_bytes(v: &Value) -> mlua::Result<Vec<u8>> {
    Ok(match v {
        Value::String(s) => s.as_bytes().to_vec(),
        Value::Integer(i) => i.to_string().into_bytes(),
        Value::Number(n) => {
            let mut b = Vec::new();
            super::fmt_number(*n, &mut b);
            b
        }
        Value::Boolean(b) => {
            if *b {
                b"true".to_vec()
            } else {
                b"false".to_vec()
            }
        }
        other => {
            return Err(mlua::Error::runtime(format!(
                "attempt to set header value of type {}",
                other.type_name()
            )))
        }
    })
}

fn set_header(key: mlua::LuaString, value: Value) -> mlua::Result<()> {
    let r = req()?;
    let name = header_name(&key)?;
    let mut resp = r.resp.borrow_mut();
    if resp.headers_sent {
        drop(resp);
        r.log(
            Level::Error,
            &format!("attempt to set ngx.header.HEADER after sending out response headers"),
        );
        return Ok(());
    }
    let values: Vec<Vec<u8>> = match &value {
        Value::Nil => Vec::new(),
        Value::Table(t) => {
            let mut v = Vec::new();
            for x in t.clone().sequence_values::<Value>() {
                v.push(value_bytes(&x?)?);
            }
            v
        }
        other => vec![value_bytes(other)?],
    };
    if name.eq_ignore_ascii_case("content-type") {
        resp.content_type = values.into_iter().last();
        return Ok(());
    }
    if name.eq_ignore_ascii_case("content-length") {
        resp.content_length = match values.last() {
            None => None,
            Some(v) => Some(
                std::str::from_utf8(v)
                    .ok()
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .ok_or_else(|| mlua::Error::runtime("invalid Content-Length header value"))?,
            ),
        };
        return Ok(());
    }
    // keep the position of the first existing occurrence so header order stays stable
    let pos = resp.find_header(&name);
    resp.remove_header(&name);
    let at = pos.unwrap_or(resp.headers.len()).min(resp.headers.len());
    for (i, v) in values.into_iter().enumerate() {
        resp.headers
            .insert(at + i, (name.clone().into_boxed_str(), v));
    }
    Ok(())
}

fn get_header(lua: &Lua, key: mlua::LuaString) -> mlua::Result<Value> {
    let r = req()?;
    let name = header_name(&key)?;
    let resp = r.resp.borrow();
    if name.eq_ignore_ascii_case("content-type") {
        return match &resp.content_type {
            Some(c) => Ok(Value::String(lua.create_string(c)?)),
            None => Ok(Value::Nil),
        };
    }
    if name.eq_ignore_ascii_case("content-length") {
        return match resp.content_length {
            Some(l) => Ok(Value::String(lua.create_string(l.to_string())?)),
            None => Ok(Value::Nil),
        };
    }
    let vals: Vec<&Vec<u8>> = resp
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(&name))
        .map(|(_, v)| v)
        .collect();
    match vals.len() {
        0 => Ok(Value::Nil),
        1 => Ok(Value::String(lua.create_string(vals[0])?)),
        _ => {
            let t = lua.create_table_with_capacity(vals.len(), 0)?;
            for v in vals {
                t.raw_push(lua.create_string(v)?)?;
            }
            Ok(Value::Table(t))
        }
    }
}

pub fn register(lua: &Lua, ngx: &Table, c: &Table) -> mlua::Result<()> {
    c.set(
        "header_get",
        lua.create_function(|lua, (_t, k): (Table, mlua::LuaString)| get_header(lua, k))?,
    )?;
    c.set(
        "header_set",
        lua.create_function(|_, (_t, k, v): (Table, mlua::LuaString, Value)| set_header(k, v))?,
    )?;
    c.set(
        "get_status",
        lua.create_function(|_, ()| Ok(req()?.resp.borrow().status))?,
    )?;
    c.set(
        "set_status",
        lua.create_function(|_, v: Value| {
            let r = req()?;
            let status = match &v {
                Value::Integer(i) => *i as i64,
                Value::Number(n) => *n as i64,
                Value::String(s) => s.to_str()?.trim().parse::<i64>().map_err(|_| {
                    mlua::Error::runtime("bad argument #3 to '?' (number expected, got string)")
                })?,
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "bad argument #3 to '?' (number expected, got {})",
                        other.type_name()
                    )))
                }
            };
            let mut resp = r.resp.borrow_mut();
            if resp.headers_sent {
                drop(resp);
                r.log(
                    Level::Error,
                    "attempt to set ngx.status after sending out response headers",
                );
                return Ok(());
            }
            if !(100..=999).contains(&status) {
                return Err(mlua::Error::runtime(format!(
                    "invalid HTTP status code {status}"
                )));
            }
            resp.status = status as u16;
            Ok(())
        })?,
    )?;
    c.set(
        "headers_sent",
        lua.create_function(|_, ()| Ok(req()?.resp.borrow().headers_sent))?,
    )?;
    let resp_t = lua.create_table()?;
    resp_t.set(
        "get_headers",
        lua.create_function(|lua, (max, raw): (Option<i64>, Option<bool>)| {
            let r = req()?;
            let resp = r.resp.borrow();
            let max = match max {
                None => 100,
                Some(n) if n <= 0 => usize::MAX,
                Some(n) => n as usize,
            };
            let raw = raw.unwrap_or(false);
            let t = lua.create_table()?;
            let mut count = 0;
            let mut truncated = None;
            let mut add = |name: &str, v: &[u8]| -> mlua::Result<()> {
                if count >= max {
                    truncated = Some("truncated");
                    return Ok(());
                }
                count += 1;
                let n = if raw {
                    lua.create_string(name)?
                } else {
                    lua.create_string(name.to_ascii_lowercase())?
                };
                insert_multi(lua, &t, n, Value::String(lua.create_string(v)?))
            };
            if let Some(ct) = &resp.content_type {
                add("Content-Type", ct)?;
            }
            if let Some(cl) = resp.content_length {
                add("Content-Length", cl.to_string().as_bytes())?;
            }
            for (n, v) in &resp.headers {
                add(n, v)?;
            }
            Ok((t, truncated))
        })?,
    )?;
    ngx.set("resp", resp_t)?;
    Ok(())
}
