//! The worker's LuaJIT VM: creation, the code cache, per-request
//! environments and the coroutine driver. Knows mlua, not HTTP.

pub mod driver;
pub mod raw;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::c_int;

use mlua::{ffi, Function, Lua, LuaOptions, StdLib, Table, Value};

use crate::config::{ChunkSrc, Globals, LuaChunk};
use raw::State;

/// The marker a yielding API returns to its Lua wrapper ("yield to the
/// driver now"). A light userdata with a private address can't collide with
/// anything a script yields.
static YIELD_MARK: u8 = 0;

pub fn yield_marker() -> Value {
    Value::LightUserData(mlua::LightUserData(yield_marker_ptr()))
}

pub fn yield_marker_ptr() -> *mut std::ffi::c_void {
    &YIELD_MARK as *const u8 as *mut std::ffi::c_void
}

/// Starts every request coroutine: `entry(key, env)`. With an `env` (the
/// request's own global table, isolated mode) `handlers[key]` is a factory
/// returning a fresh closure that gets `env`; without, it is the handler
/// itself. The handler is tail-called so tracebacks end at it.
const ENTRY: &str = r#"
local handlers = ...
local setfenv = setfenv
return function(key, env)
    local f = handlers[key]
    if env then
        f = f()
        setfenv(f, env)
    end
    return f()
end
"#;

/// Finished coroutines kept for reuse (like lua_thread_cache_max_entries).
const THREAD_CACHE_MAX: usize = 1024;

/// A coroutine the driver owns: its state and the registry reference that
/// keeps it alive. Plain integers and a pointer, no mlua handle, so any
/// number of suspended requests can exist (mlua caps live handles ~8k).
#[derive(Debug, Clone, Copy)]
pub struct Co {
    pub th: State,
    r: c_int,
}

pub struct Vm {
    pub lua: Lua,
    main: State,
    entry_ref: c_int,
    /// Compiled chunks by key (see `ENTRY`).
    handlers: Table,
    /// chunk id -> key in `handlers` (0: not compiled yet), per mode
    /// (shared, isolated).
    keys: RefCell<Vec<[i64; 2]>>,
    /// Registry reference of the metatable of request environments.
    env_mt_ref: c_int,
    /// `content_by_lua_file` paths with variables: resolved path -> key.
    file_keys: RefCell<HashMap<(String, bool), i64>>,
    next_key: Cell<i64>,
    /// Values handed to a resumed coroutine (see `driver`).
    pub(crate) xfer: Table,
    pub(crate) xfer_ref: c_int,
    /// `ngx.ctx` tables by request id.
    pub ctxs: Table,
    threads: RefCell<Vec<Co>>,
}

impl std::fmt::Debug for Vm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vm")
    }
}

pub const DEFAULT_PATH: &str = "/usr/local/share/lua/5.1/?.lua;/usr/local/share/lua/5.1/?/init.lua;/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua;./?.lua";
pub const DEFAULT_CPATH: &str = "/usr/local/lib/lua/5.1/?.so;/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;/usr/lib/lua/5.1/?.so;./?.so";

/// `;;` in lua_package_path stands for the default path (as in OpenResty).
fn expand_path(p: &str, default: &str) -> String {
    if p.contains(";;") {
        p.replacen(";;", &format!(";{default};"), 1)
            .trim_matches(';')
            .to_string()
    } else {
        p.to_string()
    }
}

/// Run init_by_lua once in a scratch VM at startup and reload, so that an
/// error stops the server (or the reload) as in nginx.
pub fn check_init(cfg: &crate::config::Config) -> Result<(), String> {
    let Some(h) = &cfg.http else { return Ok(()) };
    let Some(c) = &h.lua.init else { return Ok(()) };
    let vm = Vm::new(
        h.lua.package_path.as_deref(),
        h.lua.package_cpath.as_deref(),
    )
    .map_err(|e| format!("failed to initialize Lua VM: {e}"))?;
    crate::worker::set_phase(crate::request::Phase::Init);
    let r = vm
        .run_plain(c)
        .map_err(|e| format!("init_by_lua error: {}", driver::format_error(&e)));
    crate::worker::set_phase(crate::request::Phase::Content);
    r
}

/// Why a chunk could not be loaded, worded as OpenResty logs it.
#[derive(Debug)]
pub enum LoadError {
    /// The file does not exist (OpenResty answers 404).
    NotFound(String),
    Other(String),
}

impl Vm {
    /// A VM with every standard library, `ffi`, `jit`, `bit`, `debug`, and the ngx API.
    pub fn new(package_path: Option<&str>, package_cpath: Option<&str>) -> mlua::Result<Vm> {
        // SAFETY: `ffi` and `debug` are part of the OpenResty environment libraries expect.
        let lua = unsafe { Lua::unsafe_new_with(StdLib::ALL, LuaOptions::default()) };
        let package: Table = lua.globals().get("package")?;
        package.set(
            "path",
            expand_path(package_path.unwrap_or(";;"), DEFAULT_PATH),
        )?;
        package.set(
            "cpath",
            expand_path(package_cpath.unwrap_or(";;"), DEFAULT_CPATH),
        )?;
        let env_mt = lua.create_table()?;
        env_mt.set("__index", lua.globals())?;
        let handlers = lua.create_table()?;
        let entry: Function = lua
            .load(ENTRY)
            .set_name("=moonwire.entry")
            .call(handlers.clone())?;
        let xfer = lua.create_table()?;
        let main = lua.current_thread().state();
        // SAFETY: main is this VM's main state; each push is popped by luaL_ref.
        let (entry_ref, xfer_ref, env_mt_ref) = unsafe {
            lua.set_named_registry_value("moonwire.entry", entry)?;
            lua.set_named_registry_value("moonwire.xfer", xfer.clone())?;
            lua.set_named_registry_value("moonwire.env_mt", env_mt)?;
            ffi::lua_getfield(main, ffi::LUA_REGISTRYINDEX, c"moonwire.env_mt".as_ptr());
            let m = ffi::luaL_ref(main, ffi::LUA_REGISTRYINDEX);
            ffi::lua_getfield(main, ffi::LUA_REGISTRYINDEX, c"moonwire.entry".as_ptr());
            let e = ffi::luaL_ref(main, ffi::LUA_REGISTRYINDEX);
            ffi::lua_getfield(main, ffi::LUA_REGISTRYINDEX, c"moonwire.xfer".as_ptr());
            let x = ffi::luaL_ref(main, ffi::LUA_REGISTRYINDEX);
            (e, x, m)
        };
        let vm = Vm {
            main,
            entry_ref,
            handlers,
            keys: RefCell::new(Vec::new()),
            env_mt_ref,
            file_keys: RefCell::new(HashMap::new()),
            next_key: Cell::new(1),
            xfer,
            xfer_ref,
            ctxs: lua.create_table()?,
            threads: RefCell::new(Vec::new()),
            lua,
        };
        crate::api::install(&vm)?;
        Ok(vm)
    }

    /// Compile code as a factory: calling the result returns a fresh closure.
    fn compile(&self, code: &[u8], name: &str) -> mlua::Result<Function> {
        let mut src = Vec::with_capacity(code.len() + 32);
        // A shebang line would be a syntax error inside a function body
        let code = if code.starts_with(b"#") {
            let nl = memchr::memchr(b'\n', code).unwrap_or(code.len());
            &code[nl..]
        } else {
            code
        };
        // Everything on one line before the code keeps Lua's line numbers right.
        src.extend_from_slice(b"return function(...) ");
        src.extend_from_slice(code);
        src.extend_from_slice(b"\nend");
        self.lua.load(src).set_name(name).into_function()
    }

    fn load_key(
        &self,
        code: &[u8],
        name: &str,
        isolated: bool,
        what: &str,
    ) -> Result<i64, LoadError> {
        let factory = self
            .compile(code, name)
            .map_err(|e| LoadError::Other(format!("{what}: {}", driver::error_message(&e))))?;
        let f = if isolated {
            factory
        } else {
            factory
                .call::<Function>(())
                .map_err(|e| LoadError::Other(driver::error_message(&e)))?
        };
        let key = self.next_key.get();
        self.next_key.set(key + 1);
        self.handlers
            .raw_set(key, f)
            .map_err(|e| LoadError::Other(e.to_string()))?;
        Ok(key)
    }

    /// The `handlers` key for `chunk` (compiling it on first use) and whether
    /// it runs isolated. `path` is the resolved file for `*_by_lua_file`.
    pub fn prepare(
        &self,
        chunk: &LuaChunk,
        globals: Globals,
        path: Option<&str>,
    ) -> Result<(i64, bool), LoadError> {
        let isolated = globals == Globals::Isolated;
        if !chunk.no_cache {
            let cached = match path {
                Some(p) => self
                    .file_keys
                    .borrow()
                    .get(&(p.to_string(), isolated))
                    .copied(),
                None => self
                    .keys
                    .borrow()
                    .get(chunk.id)
                    .map(|k| k[isolated as usize])
                    .filter(|&k| k != 0),
            };
            if let Some(k) = cached {
                return Ok((k, isolated));
            }
        }
        let key = match (&chunk.src, path) {
            (ChunkSrc::Inline(code), _) => self.load_key(
                code.as_bytes(),
                &chunk.name,
                isolated,
                "failed to load inlined Lua code",
            )?,
            (ChunkSrc::File(p), resolved) => {
                let p = resolved
                    .map(std::path::PathBuf::from)
                    .unwrap_or_else(|| p.clone());
                let code = std::fs::read(&p).map_err(|e| {
                    let msg = format!(
                        "failed to load external Lua file \"{}\": cannot open {}",
                        p.display(),
                        p.display()
                    );
                    if e.kind() == std::io::ErrorKind::NotFound {
                        LoadError::NotFound(msg)
                    } else {
                        LoadError::Other(msg)
                    }
                })?;
                let what = format!("failed to load external Lua file \"{}\"", p.display());
                self.load_key(&code, &format!("@{}", p.display()), isolated, &what)?
            }
        };
        if chunk.no_cache {
            // recompiled next time: drop this copy once the request started it
            return Ok((key, isolated));
        }
        match path {
            Some(p) => self
                .file_keys
                .borrow_mut()
                .insert((p.to_string(), isolated), key),
            None => {
                let mut keys = self.keys.borrow_mut();
                if keys.len() <= chunk.id {
                    keys.resize(chunk.id + 1, [0, 0]);
                }
                keys[chunk.id][isolated as usize] = key;
                None
            }
        };
        Ok((key, isolated))
    }

    /// Forget a key compiled for one use (`lua_code_cache off`).
    pub fn forget(&self, chunk: &LuaChunk, key: i64) {
        if chunk.no_cache {
            let _ = self.handlers.raw_set(key, Value::Nil);
        }
    }

    /// Run a chunk once outside any request (init_by_lua, init_worker_by_lua).
    pub fn run_plain(&self, chunk: &LuaChunk) -> mlua::Result<()> {
        let code = match &chunk.src {
            ChunkSrc::Inline(c) => c.as_bytes().to_vec(),
            ChunkSrc::File(p) => std::fs::read(p).map_err(mlua::Error::external)?,
        };
        let f: Function = self.compile(&code, &chunk.name)?.call(())?;
        f.call::<()>(())
    }

    /// A coroutine ready to run the entry trampoline.
    pub fn co(&self) -> Co {
        if let Some(c) = self.threads.borrow_mut().pop() {
            return c;
        }
        // SAFETY: main is valid; lua_newthread pushes the thread, luaL_ref pops it.
        unsafe {
            let th = ffi::lua_newthread(self.main);
            let r = ffi::luaL_ref(self.main, ffi::LUA_REGISTRYINDEX);
            Co { th, r }
        }
    }

    /// Give back a coroutine that finished normally.
    pub fn recycle(&self, c: Co) {
        let mut cache = self.threads.borrow_mut();
        if cache.len() < THREAD_CACHE_MAX {
            cache.push(c);
        } else {
            self.release(c);
        }
    }

    /// Drop a coroutine that cannot be reused (failed, or abandoned by ngx.exit).
    pub fn release(&self, c: Co) {
        // SAFETY: c.r is a live registry reference created by `co`.
        unsafe { ffi::luaL_unref(self.main, ffi::LUA_REGISTRYINDEX, c.r) };
    }

    /// Push the entry trampoline and its arguments on a fresh coroutine;
    /// `env` is the registry reference of the global table to run in
    /// (isolated mode), 0 for the shared `_G`.
    ///
    /// # Safety
    /// `c` must be a coroutine from `co` that is not running.
    pub unsafe fn push_entry(&self, c: Co, key: i64, env: c_int) {
        ffi::lua_settop(c.th, 0);
        ffi::lua_rawgeti(
            c.th,
            ffi::LUA_REGISTRYINDEX,
            self.entry_ref as ffi::lua_Integer,
        );
        ffi::lua_pushinteger(c.th, key as ffi::lua_Integer);
        if env == 0 {
            ffi::lua_pushnil(c.th);
        } else {
            ffi::lua_rawgeti(c.th, ffi::LUA_REGISTRYINDEX, env as ffi::lua_Integer);
        }
    }

    /// A new global environment (a table whose misses fall back to `_G`),
    /// anchored in the registry; give it back with `unref`.
    pub fn new_env(&self) -> c_int {
        let l = self.main;
        // SAFETY: balanced pushes on the main state; luaL_ref pops the table.
        unsafe {
            // sized for _G up front: saves a rehash on every request
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_pushvalue(l, -1);
            ffi::lua_setfield(l, -2, c"_G".as_ptr());
            ffi::lua_rawgeti(
                l,
                ffi::LUA_REGISTRYINDEX,
                self.env_mt_ref as ffi::lua_Integer,
            );
            ffi::lua_setmetatable(l, -2);
            ffi::luaL_ref(l, ffi::LUA_REGISTRYINDEX)
        }
    }

    /// Drop a registry reference (an environment from `new_env`).
    pub fn unref(&self, r: c_int) {
        // SAFETY: r is a live registry reference owned by the caller.
        unsafe { ffi::luaL_unref(self.main, ffi::LUA_REGISTRYINDEX, r) };
    }

    pub(crate) fn main_state(&self) -> State {
        self.main
    }

    /// Drop a request's Lua-side state.
    pub fn end_request(&self, id: u64) {
        let _ = self.ctxs.raw_set(id as i64, Value::Nil);
    }
}
