//! The `ngx` table, assembled in a fixed order from one module per API area
//! (named after lua-nginx-module's source files).

mod consts;
mod control;
pub(crate) mod log;
mod misc;
pub(crate) mod output;
mod re;
mod req;
mod req_body;
mod req_socket;
mod resp;
mod semaphore;
mod sleep;
mod socket_tcp;
mod socket_udp;
mod subrequest;
mod thread;
mod timer;
mod var;

use std::rc::Rc;

use mlua::{Table, Value};

use crate::lua::driver;
use crate::lua::Vm;
use crate::request::{Phase, Req};

const PRELUDE: &str = include_str!("prelude.lua");
const REQ_LUA: &str = include_str!("req.lua");

/// Build `ngx` and the helper modules in a fresh VM.
pub fn install(vm: &Vm) -> mlua::Result<()> {
    let lua = &vm.lua;
    let ngx = lua.create_table()?;
    // Private primitives the Lua prelude wraps; never visible to user code.
    let c = lua.create_table()?;
    consts::register(lua, &ngx)?;
    log::register(lua, &ngx)?;
    output::register(lua, &ngx, &c)?;
    control::register(lua, &ngx, &c)?;
    sleep::register(lua, &c)?;
    thread::register(lua, &ngx, &c)?;
    timer::register(lua, &ngx)?;
    semaphore::register(lua, &c)?;
    socket_udp::register(lua, &c)?;
    socket_tcp::register(lua, &c)?;
    req::register(lua, &ngx, &c)?;
    subrequest::register(lua, &ngx, &c)?;
    resp::register(lua, &ngx, &c)?;
    var::register(lua, &c)?;
    misc::register(lua, &ngx, &c)?;
    re::register(lua, &ngx)?;
    ngx_util::register(lua, &ngx)?;
    c.set("ngx", ngx.clone())?;
    c.set("YIELD", crate::lua::yield_marker())?;
    c.set("ctxs", vm.ctxs.clone())?;
    lua.globals().set("ngx", ngx)?;
    lua_cjson::preload(lua)?;
    let preload: Table = lua.globals().get::<Table>("package")?.get("preload")?;
    preload.set(
        "ngx.base64",
        lua.create_function(|lua, ()| ngx_util::base64_module(lua))?,
    )?;
    lua.load(PRELUDE)
        .set_name("=moonwire.prelude")
        .call::<()>(c.clone())?;
    lua.load(REQ_LUA).set_name("=moonwire.req").call::<()>(c)?;
    Ok(())
}

/// The current request, or OpenResty's error when there is none.
pub fn req() -> mlua::Result<Rc<Req>> {
    driver::current().ok_or_else(|| {
        // OpenResty runs timers and init_worker on a fake request that
        // request APIs refuse
        mlua::Error::runtime(match phase() {
            Phase::Timer | Phase::InitWorker | Phase::ExitWorker => {
                "API disabled in the current context"
            }
            _ => "no request found",
        })
    })
}

/// The current phase: the request's, or the worker's (init_worker, timers...).
pub fn phase() -> Phase {
    driver::current_phase()
        .or_else(|| driver::with_current(|r| r.map(|r| r.phase.get())))
        .unwrap_or_else(crate::worker::phase)
}

/// Raise "API disabled in the context of X" unless the current phase is allowed.
pub fn check_phase(allowed: &[Phase]) -> mlua::Result<()> {
    let p = phase();
    if allowed.contains(&p) {
        Ok(())
    } else {
        Err(mlua::Error::runtime(format!(
            "API disabled in the context of {}",
            p.context_name()
        )))
    }
}

use Phase::*;

/// Phases where the request-output API works (ngx.say, ngx.print, ngx.flush ...).
pub const OUTPUT: &[Phase] = &[ServerRewrite, Rewrite, Access, Precontent, Content];
/// Phases that may yield (sleep, cosockets, light threads, semaphore waits).
/// Wider than OpenResty: every phase runs as an async task here, so
/// init_worker, the filters and log may do I/O too (docs/compatibility.md).
pub const YIELDABLE: &[Phase] = &[
    InitWorker,
    ServerRewrite,
    Rewrite,
    Access,
    Precontent,
    Content,
    HeaderFilter,
    BodyFilter,
    Log,
    Timer,
];
/// Phases that have a current request.
pub const REQUEST: &[Phase] = &[
    Set,
    ServerRewrite,
    Rewrite,
    Access,
    Precontent,
    Content,
    HeaderFilter,
    BodyFilter,
    Log,
];

/// Lua's own rendering of a number (`%.14g`), as `tostring` and `ngx.say` print it.
pub fn fmt_number(n: f64, out: &mut Vec<u8>) {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        if n.is_sign_negative() {
            out.push(b'-');
        }
        crate::http::push_num(out, n.abs() as u64);
        return;
    }
    let mut buf = [0u8; 64];
    // SAFETY: the buffer is large enough for any %.14g rendering and NUL-terminated by snprintf.
    let len = unsafe {
        libc::snprintf(
            buf.as_mut_ptr() as *mut libc::c_char,
            buf.len(),
            c"%.14g".as_ptr(),
            n,
        )
    };
    out.extend_from_slice(&buf[..len.clamp(0, 63) as usize]);
}

/// Whether a value is `ngx.null` (the NULL light userdata).
pub fn is_null(v: &Value) -> bool {
    matches!(v, Value::LightUserData(p) if p.0.is_null())
}

/// A Lua error with the calling Lua code's position, like luaL_error:
/// `content_by_lua(nginx.conf:12):3: msg`. The position is that of the
/// first Lua frame outside our own prelude wrappers (`_level` is kept for
/// call-site documentation).
pub fn lua_err(lua: &mlua::Lua, _level: usize, msg: impl std::fmt::Display) -> mlua::Error {
    let mut pos = String::new();
    for level in 1..8 {
        let found = lua.inspect_stack(level, |d| {
            let src = d.source();
            let short = src.short_src.as_deref().unwrap_or("");
            if src.what == "C" || short.starts_with("moonwire.") {
                return None;
            }
            Some(match d.current_line() {
                Some(l) => format!("{short}:{l}: "),
                None => String::new(),
            })
        });
        match found {
            Some(Some(p)) => {
                pos = p;
                break;
            }
            Some(None) => continue,
            None => break,
        }
    }
    mlua::Error::runtime(format!("{pos}{msg}"))
}

/// `v` as the only return value.
pub fn one(v: mlua::Value) -> mlua::Result<mlua::MultiValue> {
    let mut mv = mlua::MultiValue::new();
    mv.push_back(v);
    Ok(mv)
}

/// OpenResty's success value `1`.
pub fn ok1() -> mlua::Result<mlua::MultiValue> {
    one(mlua::Value::Integer(1))
}

/// OpenResty's failure convention: `nil, err`.
pub fn nil_err(lua: &mlua::Lua, msg: &str) -> mlua::Result<mlua::MultiValue> {
    let mut mv = mlua::MultiValue::new();
    mv.push_back(mlua::Value::Nil);
    mv.push_back(mlua::Value::String(lua.create_string(msg)?));
    Ok(mv)
}

/// Register `fut` as the calling coroutine's wait and return the yield
/// marker its Lua wrapper turns into a yield.
pub fn yield_with(
    fut: impl std::future::Future<Output = driver::Resumer> + 'static,
) -> mlua::Result<mlua::MultiValue> {
    driver::set_pending(driver::Pending::Wait(Box::pin(fut)));
    one(crate::lua::yield_marker())
}
