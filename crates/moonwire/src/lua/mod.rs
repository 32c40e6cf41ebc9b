//! The worker's LuaJIT VM: creation, the code cache, per-request
//! environments and the coroutine driver. Knows mlua, not HTTP.

pub mod driver;
pub mod raw;

use std::cell::RefCell;
use std::collections::HashMap;

use mlua::{Function, Lua, LuaOptions, StdLib, Table, Thread, Value};

use crate::config::{ChunkSrc, Globals, LuaChunk};

/// The marker a yielding API returns to its Lua wrapper ("yield to the
/// driver now"). A light userdata with a private address can't collide with
/// anything a script yields.
static YIELD_MARK: u8 = 0;

pub fn yield_marker() -> Value {
    Value::LightUserData(mlua::LightUserData(
        &YIELD_MARK as *const u8 as *mut std::ffi::c_void,
    ))
}

const ENTRY: &str = r#"
local setmetatable, setfenv = setmetatable, setfenv
local tnew = require "table.new"
return function(f, mt)
    if mt then
        f = f()
        -- sized for _G up front: saves a rehash on every request
        local env = setmetatable(tnew(0, 1), mt)
        env._G = env
        setfenv(f, env)
    end
    return f()
end
"#;

/// Finished coroutines kept for reuse (like lua_thread_cache_max_entries);
/// each cached handle holds one mlua reference, so keep the cache small.
const THREAD_CACHE_MAX: usize = 128;

pub struct Vm {
    pub lua: Lua,
    entry: Function,
    /// `{ __index = _G }`: the metatable of every per-request environment.
    env_mt: Table,
    /// Coroutines suspended across an await, keyed by an integer: Rust holds
    /// only the key, never an mlua handle (LuaJIT caps live handles at ~8k).
    parked: Table,
    /// `ngx.ctx` tables by request id.
    pub ctxs: Table,
    /// chunk id -> compiled factory (`function(...) <chunk> end` maker).
    factories: RefCell<HashMap<usize, Function>>,
    /// chunk id -> the handler itself, for `lua_request_globals shared`.
    shared: RefCell<HashMap<usize, Function>>,
    threads: RefCell<Vec<Thread>>,
    next_park: std::cell::Cell<i64>,
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
        let entry: Function = lua.load(ENTRY).set_name("=moonwire.entry").eval()?;
        let env_mt = lua.create_table()?;
        env_mt.set("__index", lua.globals())?;
        let vm = Vm {
            entry,
            env_mt,
            parked: lua.create_table()?,
            ctxs: lua.create_table()?,
            factories: RefCell::new(HashMap::new()),
            shared: RefCell::new(HashMap::new()),
            threads: RefCell::new(Vec::new()),
            next_park: std::cell::Cell::new(1),
            lua,
        };
        crate::api::install(&vm)?;
        Ok(vm)
    }

    fn load_source(&self, chunk: &LuaChunk) -> mlua::Result<Vec<u8>> {
        match &chunk.src {
            ChunkSrc::Inline(code) => Ok(code.as_bytes().to_vec()),
            ChunkSrc::File(p) => std::fs::read(p).map_err(|e| {
                mlua::Error::runtime(format!(
                    "failed to load external Lua file \"{}\": cannot open {}: {}",
                    p.display(),
                    p.display(),
                    crate::log::strerror(&e)
                ))
            }),
        }
    }

    /// Compile `chunk` as a factory returning a fresh closure of the code.
    fn compile_factory(&self, chunk: &LuaChunk) -> mlua::Result<Function> {
        let code = self.load_source(chunk)?;
        let mut src = Vec::with_capacity(code.len() + 32);
        // A shebang line would be a syntax error inside a function body
        let code = if code.starts_with(b"#") {
            let nl = memchr::memchr(b'\n', &code).unwrap_or(code.len());
            &code[nl..]
        } else {
            &code[..]
        };
        // Everything on one line before the code keeps Lua's line numbers right.
        src.extend_from_slice(b"return function(...) ");
        src.extend_from_slice(code);
        src.extend_from_slice(b"\nend");
        self.lua
            .load(src)
            .set_name(chunk.name.clone())
            .into_function()
    }

    /// The function and env metatable to start a handler with (see `ENTRY`).
    pub fn handler(
        &self,
        chunk: &LuaChunk,
        globals: Globals,
    ) -> mlua::Result<(Function, Option<Table>)> {
        match globals {
            Globals::Isolated => {
                if chunk.no_cache {
                    return Ok((self.compile_factory(chunk)?, Some(self.env_mt.clone())));
                }
                let f = self.factories.borrow().get(&chunk.id).cloned();
                let f = match f {
                    Some(f) => f,
                    None => {
                        let f = self.compile_factory(chunk)?;
                        self.factories.borrow_mut().insert(chunk.id, f.clone());
                        f
                    }
                };
                Ok((f, Some(self.env_mt.clone())))
            }
            Globals::Shared => {
                if chunk.no_cache {
                    return Ok((self.compile_factory(chunk)?.call(())?, None));
                }
                let f = self.shared.borrow().get(&chunk.id).cloned();
                let f = match f {
                    Some(f) => f,
                    None => {
                        let f: Function = self.compile_factory(chunk)?.call(())?;
                        self.shared.borrow_mut().insert(chunk.id, f.clone());
                        f
                    }
                };
                Ok((f, None))
            }
        }
    }

    /// Run a chunk once outside any request (init_by_lua, init_worker_by_lua).
    pub fn run_plain(&self, chunk: &LuaChunk) -> mlua::Result<()> {
        let f: Function = self.compile_factory(chunk)?.call(())?;
        f.call::<()>(())
    }

    /// A coroutine running the entry trampoline, from the cache when possible.
    pub fn thread(&self) -> mlua::Result<Thread> {
        if let Some(t) = self.threads.borrow_mut().pop() {
            if t.reset(self.entry.clone()).is_ok() {
                return Ok(t);
            }
        }
        self.lua.create_thread(self.entry.clone())
    }

    /// Give back a coroutine that finished normally.
    pub fn recycle(&self, t: Thread) {
        let mut cache = self.threads.borrow_mut();
        if cache.len() < THREAD_CACHE_MAX {
            cache.push(t);
        }
    }

    pub fn park(&self, t: Thread) -> mlua::Result<i64> {
        let k = self.next_park.get();
        self.next_park.set(k + 1);
        self.parked.raw_set(k, t)?;
        Ok(k)
    }

    pub fn unpark(&self, k: i64) -> mlua::Result<Thread> {
        let t: Thread = self.parked.raw_get(k)?;
        self.parked.raw_set(k, Value::Nil)?;
        Ok(t)
    }

    /// Drop a request's Lua-side state.
    pub fn end_request(&self, id: u64) {
        let _ = self.ctxs.raw_set(id as i64, Value::Nil);
    }
}
