//! ngx.location.capture / capture_multi, ngx.is_subrequest,
//! ngx.req.is_internal (ngx_http_lua_subrequest.c).

use bytes::Bytes;
use mlua::{Lua, MultiValue, Table, Value};

use super::{check_phase, req};
use crate::lua::driver::Resumer;
use crate::request::subreq::{self, SubOpts};
use crate::request::Phase;

const CAPTURE: &[Phase] = &[
    Phase::ServerRewrite,
    Phase::Rewrite,
    Phase::Access,
    Phase::Precontent,
    Phase::Content,
];

fn opts_of(i: usize, spec: &Value) -> mlua::Result<SubOpts> {
    let Value::Table(spec) = spec else {
        return Err(mlua::Error::runtime(format!(
            "only array-like tables are allowed in request {i}"
        )));
    };
    let uri: Value = spec.raw_get(1)?;
    let uri = match uri {
        Value::String(s) if !s.as_bytes().is_empty() => s.as_bytes().to_vec(),
        Value::String(_) => {
            return Err(mlua::Error::runtime(format!("uri is empty in request {i}")))
        }
        other => {
            return Err(mlua::Error::runtime(format!(
                "bad uri type in request {i}: {}",
                other.type_name()
            )))
        }
    };
    let (path, mut query) = match memchr::memchr(b'?', &uri) {
        Some(p) => (uri[..p].to_vec(), Some(uri[p + 1..].to_vec())),
        None => (uri, None),
    };
    let mut o = SubOpts {
        method: "GET",
        uri: Bytes::from(path),
        args: None,
        body: None,
        vars: Vec::new(),
        copy_all_vars: false,
        share_all_vars: false,
        ctx: None,
        always_forward_body: false,
    };
    let opts: Value = spec.raw_get(2)?;
    match opts {
        Value::Nil => {}
        Value::Table(t) => {
            match t.raw_get::<Value>("method")? {
                Value::Nil => {}
                Value::Integer(m) => {
                    o.method = subreq::method_name(m).ok_or_else(|| {
                        mlua::Error::runtime(format!("unsupported HTTP method: {m}"))
                    })?
                }
                _ => return Err(mlua::Error::runtime("Bad http request method")),
            }
            match t.raw_get::<Value>("args")? {
                Value::Nil => {}
                Value::String(a) => {
                    let a = a.as_bytes().to_vec();
                    query = Some(match query {
                        Some(mut q) if !q.is_empty() => {
                            q.push(b'&');
                            q.extend_from_slice(&a);
                            q
                        }
                        _ => a,
                    });
                }
                _ => return Err(mlua::Error::runtime("Bad args option value")),
            }
            match t.raw_get::<Value>("body")? {
                Value::Nil => {}
                Value::String(b) => o.body = Some(Bytes::copy_from_slice(&b.as_bytes())),
                Value::Integer(n) => o.body = Some(Bytes::from(n.to_string())),
                _ => return Err(mlua::Error::runtime("Bad http request body")),
            }
            match t.raw_get::<Value>("vars")? {
                Value::Nil => {}
                Value::Table(vars) => {
                    for pair in vars.pairs::<mlua::LuaString, Value>() {
                        let (k, v) = pair?;
                        let v = match v {
                            Value::String(s) => s.as_bytes().to_vec(),
                            Value::Integer(n) => n.to_string().into_bytes(),
                            Value::Number(n) => {
                                let mut b = Vec::new();
                                super::fmt_number(n, &mut b);
                                b
                            }
                            _ => {
                                return Err(mlua::Error::runtime(
                                    "attempt to use bad variable value type",
                                ))
                            }
                        };
                        o.vars
                            .push((k.to_string_lossy().to_ascii_lowercase(), Bytes::from(v)));
                    }
                }
                _ => return Err(mlua::Error::runtime("Bad vars option value")),
            }
            o.copy_all_vars = t.raw_get::<Option<bool>>("copy_all_vars")?.unwrap_or(false);
            o.share_all_vars = t
                .raw_get::<Option<bool>>("share_all_vars")?
                .unwrap_or(false);
            o.always_forward_body = t
                .raw_get::<Option<bool>>("always_forward_body")?
                .unwrap_or(false);
            match t.raw_get::<Value>("ctx")? {
                Value::Nil => {}
                Value::Table(c) => o.ctx = Some(c),
                _ => return Err(mlua::Error::runtime("Bad ctx option value type")),
            }
        }
        _ => return Err(mlua::Error::runtime("Bad options argument type")),
    }
    o.args = query.map(Bytes::from);
    Ok(o)
}

fn result_table(lua: &Lua, r: subreq::SubResult) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 4)?;
    t.raw_set("status", r.status)?;
    let h = lua.create_table()?;
    for (n, v) in r.headers {
        let v = lua.create_string(&v)?;
        match h.raw_get::<Value>(&*n)? {
            Value::Nil => h.raw_set(&*n, v)?,
            Value::Table(list) => list.raw_set(list.raw_len() + 1, v)?,
            old => h.raw_set(&*n, lua.create_sequence_from([old, Value::String(v)])?)?,
        }
    }
    t.raw_set("header", h)?;
    t.raw_set("body", lua.create_string(&r.body)?)?;
    t.raw_set("truncated", r.truncated)?;
    Ok(t)
}

pub fn register(lua: &Lua, ngx: &Table, c: &Table) -> mlua::Result<()> {
    c.set(
        "capture_multi",
        lua.create_function(|_, reqs: Value| {
            let Value::Table(reqs) = reqs else {
                return Err(mlua::Error::runtime(format!(
                    "bad argument #1 to '?' (table expected, got {})",
                    reqs.type_name()
                )));
            };
            check_phase(CAPTURE)?;
            let parent = req()?;
            let n = reqs.raw_len();
            if n == 0 {
                return Err(mlua::Error::runtime(
                    "at least one subrequest should be specified",
                ));
            }
            let mut all = Vec::with_capacity(n);
            for i in 1..=n {
                all.push(opts_of(i, &reqs.raw_get(i)?)?);
            }
            let me = crate::lua::driver::current_task();
            if let Some((task, tid)) = &me {
                task.set_in_subrequest(*tid, true);
            }
            super::yield_with(async move {
                let runs = all.into_iter().map(|o| subreq::run(parent.clone(), o));
                let results = futures_util::future::join_all(runs).await;
                if let Some((task, tid)) = me {
                    task.set_in_subrequest(tid, false);
                }
                let r: Resumer = Box::new(move |lua| {
                    let mut mv = MultiValue::new();
                    for res in results {
                        mv.push_back(Value::Table(result_table(lua, res)?));
                    }
                    Ok(mv)
                });
                r
            })
        })?,
    )?;
    c.set(
        "is_subrequest",
        lua.create_function(|_, ()| {
            Ok(crate::lua::driver::with_current(|r| {
                r.map(|r| r.subrequest)
            }))
        })?,
    )?;
    let r: Table = ngx.get("req")?;
    r.set(
        "is_internal",
        lua.create_function(|_, ()| Ok(req()?.internal.get()))?,
    )?;
    Ok(())
}
