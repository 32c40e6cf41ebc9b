//! ngx.get_phase, ngx.config, ngx.worker and the request id behind ngx.ctx
//! (ngx_http_lua_phase.c, _config.c, _worker.c, _ctx.c).

use std::ffi::c_int;

use mlua::{ffi, Lua, Table};

use crate::lua::raw::State;

use super::phase;
use crate::lua::driver;
use crate::worker;

/// The key of the current request's `ngx.ctx` table; code outside a request
/// (init_worker) shares key 0. Marks the request so its table is dropped at the end.
unsafe extern "C-unwind" fn req_id_c(l: State) -> c_int {
    let id = driver::with_current(|r| match r {
        Some(r) => {
            r.ctx_used.set(true);
            r.id
        }
        None => 0,
    });
    ffi::lua_pushinteger(l, id as ffi::lua_Integer);
    1
}

pub fn register(lua: &Lua, ngx: &Table, c: &Table) -> mlua::Result<()> {
    // SAFETY: follows the raw-function rule in lua/raw.rs.
    c.set("req_id", unsafe { lua.create_c_function(req_id_c)? })?;
    c.set(
        "warn_global",
        lua.create_function(|_, k: mlua::Value| {
            driver::with_current(|r| {
                if let Some(r) = r {
                    if r.loc.globals == crate::config::Globals::Shared {
                        let name = k.to_string().unwrap_or_default();
                        r.log(
                            crate::log::Level::Warn,
                            &format!("writing a global Lua variable ('{name}') which may lead to race conditions between concurrent requests, so prefer the use of 'local' variables"),
                        );
                    }
                }
            });
            Ok(())
        })?,
    )?;
    ngx.set(
        "get_phase",
        lua.create_function(|_, ()| Ok(phase().name()))?,
    )?;

    let config = lua.create_table()?;
    config.set("subsystem", "http")?;
    config.set("debug", false)?;
    config.set("nginx_version", crate::NGINX_VERSION_NUM)?;
    config.set("ngx_lua_version", crate::NGX_LUA_VERSION)?;
    config.set("prefix", lua.create_function(|_, ()| Ok(worker::prefix()))?)?;
    config.set(
        "nginx_configure",
        lua.create_function(|_, ()| Ok(crate::CONFIGURE_ARGS))?,
    )?;
    ngx.set("config", config)?;

    let w = lua.create_table()?;
    w.set("id", lua.create_function(|_, ()| Ok(worker::id()))?)?;
    w.set("count", lua.create_function(|_, ()| Ok(worker::count()))?)?;
    w.set("pid", lua.create_function(|_, ()| Ok(std::process::id()))?)?;
    w.set(
        "exiting",
        lua.create_function(|_, ()| Ok(worker::exiting()))?,
    )?;
    ngx.set("worker", w)?;

    Ok(())
}
