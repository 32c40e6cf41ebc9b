//! ngx.log and print (ngx_http_lua_log.c): `[lua] source:line: func(): message`.

use mlua::{Lua, MultiValue, Table, Value};

use super::{fmt_number, is_null};
use crate::log::{self, Level};
use crate::lua::driver;

fn render_args(lua: &Lua, args: &MultiValue, skip: usize, fname: &str) -> mlua::Result<Vec<u8>> {
    let mut msg = Vec::new();
    for (i, v) in args.iter().enumerate().skip(skip) {
        match v {
            Value::String(s) => msg.extend_from_slice(&s.as_bytes()),
            Value::Integer(n) => crate::http::push_num_signed(&mut msg, *n),
            Value::Number(n) => fmt_number(*n, &mut msg),
            Value::Nil => msg.extend_from_slice(b"nil"),
            Value::Boolean(b) => msg.extend_from_slice(if *b { b"true" } else { b"false" }),
            v if is_null(v) => msg.extend_from_slice(b"null"),
            Value::Table(t)
                if t.metatable()
                    .is_some_and(|m| m.contains_key("__tostring").unwrap_or(false)) =>
            {
                let s: mlua::LuaString = lua
                    .globals()
                    .get::<mlua::Function>("tostring")?
                    .call(t.clone())?;
                msg.extend_from_slice(&s.as_bytes());
            }
            other => {
                let what = if matches!(other, Value::Table(_)) {
                    "expected table to have __tostring metamethod".to_string()
                } else {
                    format!(
                        "string, number, boolean, or nil expected, got {}",
                        other.type_name()
                    )
                };
                return Err(super::lua_err(
                    lua,
                    1,
                    format!("bad argument #{} to '{}' ({})", i + 1 - skip, fname, what),
                ));
            }
        }
    }
    Ok(msg)
}

/// `[lua] content_by_lua(nginx.conf:12):2: ` for the Lua function calling us.
fn prefix(lua: &Lua) -> String {
    lua.inspect_stack(1, |d| {
        let src = d.source();
        // OpenResty prints a file's base name: `[lua] foo.lua:3: msg`
        let short = src.short_src.as_deref().unwrap_or("?");
        let short = if src.source.as_deref().is_some_and(|s| s.starts_with('@')) {
            short.rsplit('/').next().unwrap_or(short).to_string()
        } else {
            short.to_string()
        };
        let line = d.current_line().map(|l| l as i64).unwrap_or(-1);
        let names = d.names();
        match (names.name.as_deref(), src.what) {
            (Some(n), "Lua") => format!("[lua] {short}:{line}: {n}(): "),
            _ => format!("[lua] {short}:{line}: "),
        }
    })
    .unwrap_or_else(|| "[lua] ?: ".to_string())
}

pub fn emit(level: Level, msg: &str) {
    driver::with_current(|r| match r {
        Some(r) => r.log(level, msg),
        None => log::log(level, msg),
    })
}

fn enabled(level: Level) -> bool {
    driver::with_current(|r| match r.and_then(|r| r.error_sink()) {
        Some(s) => s.enabled(level),
        None => log::enabled(level),
    })
}

pub fn register(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    ngx.set(
        "log",
        lua.create_function(|lua, args: MultiValue| {
            let level = match args.front() {
                Some(Value::Integer(i)) => *i,
                Some(Value::Number(n)) => *n as i64,
                _ => {
                    return Err(mlua::Error::runtime(
                        "bad argument #1 to 'log' (number expected, got no value)",
                    ))
                }
            };
            let Some(level) = Level::from_ngx(level) else {
                return Err(super::lua_err(lua, 1, format!("bad log level: {level}")));
            };
            if !enabled(level) {
                return Ok(());
            }
            let msg = render_args(lua, &args, 1, "log")?;
            let mut line = prefix(lua);
            line.push_str(&String::from_utf8_lossy(&msg));
            emit(level, &line);
            Ok(())
        })?,
    )?;
    lua.globals().set(
        "print",
        lua.create_function(|lua, args: MultiValue| {
            if !enabled(Level::Notice) {
                return Ok(());
            }
            let msg = render_args(lua, &args, 0, "print")?;
            let mut line = prefix(lua);
            line.push_str(&String::from_utf8_lossy(&msg));
            emit(Level::Notice, &line);
            Ok(())
        })?,
    )?;
    Ok(())
}
