//! ngx.re.match/find/gmatch/sub/gsub and the `ngx.re` module (split, opt):
//! lua-nginx-module's ngx_http_lua_regex.c with lua-resty-core's
//! resty/core/regex.lua and ngx/re.lua semantics, on `crates/ngx-re`.
//!
//! `match`, `find` and `sub`/`gsub` with a string template are raw C
//! functions. What calls user Lua (gmatch iterators, replacement functions,
//! split) is Lua in `re.lua`, over two primitives: compile to a handle and
//! run a handle; so a replacement function may yield, as in OpenResty.
//!
//! Every function is a C closure sharing three upvalues: the VM's
//! [`Engine`] (a full userdata), the table anchoring the strings whose
//! addresses key the `o` cache, and the original `tostring`.
//!
//! The `o` cache is keyed by the *addresses* of the regex and options
//! strings: LuaJIT interns every string and never moves objects, so while
//! a string is alive its address identifies its content. Cached keys are
//! anchored (never collected), which keeps that true for the cache's life.
//! A lookup is one hash of two words, no string hashing or comparison.
//!
//! Re-entrancy: any Lua allocation may run a `__gc` finalizer, which may
//! call `ngx.re` again. So the engine is only borrowed in short scopes that
//! make no Lua call, and a match's group offsets are copied out ([`Spans`])
//! before the captures table is built.

use std::ffi::{c_char, c_int, CStr};
use std::rc::Rc;

use mlua::{ffi, Function, Lua, Table};
use ngx_re::{Cache, Insert, Matcher, Options, Regex, Template};

use crate::log::Level;
use crate::lua::driver;
use crate::lua::raw::{self, State};

const GLUE: &str = include_str!("re.lua");

/// Registry name of the metatable of compiled-regex handles.
const HANDLE_MT: &CStr = c"moonwire.re.handle";

/// `lua_regex_cache_max_entries` default.
const DEFAULT_CACHE_MAX: usize = 1024;

/// Reusable output buffers larger than this are freed after the call.
const MAX_KEPT_BUFFER: usize = 64 * 1024;

/// Per-VM regex state (one per worker, like OpenResty's per-process state).
struct Engine {
    /// Whether the worker's settings were applied (see `ready`).
    ready: bool,
    cache: Cache<(usize, usize), Rc<Regex>>,
    matcher: Matcher,
    tpl: Template,
    out: Vec<u8>,
}

impl Engine {
    fn new() -> Engine {
        Engine {
            ready: false,
            cache: Cache::new(DEFAULT_CACHE_MAX),
            matcher: Matcher::new(0),
            tpl: Template::default(),
            out: Vec::new(),
        }
    }

    /// Apply the worker's `lua_regex_*` settings. Without a worker (the
    /// VM is built before its worker is registered; init_by_lua) the
    /// defaults stay and the check is repeated; cached regexes and the JIT
    /// stack are kept either way.
    fn ready(&mut self) {
        if self.ready {
            return;
        }
        let Some(w) = crate::worker::current() else {
            return;
        };
        if let Some(h) = w.cfg.http.as_ref() {
            self.cache.set_max(h.lua.regex_cache_max_entries);
            self.matcher.set_match_limit(h.lua.regex_match_limit);
        }
        self.ready = true;
    }
}

/// How a call fails: a raised error, or OpenResty's `nil, err` return.
enum Fail {
    Raise(String),
    Ret(Vec<u8>),
}

fn pcre_failed(rc: i32) -> Fail {
    Fail::Ret(format!("pcre_exec() failed: {rc}").into_bytes())
}

/// The VM's engine, set up for use. Dereference it only in scopes that
/// make no Lua call (see the module documentation).
///
/// # Safety
/// `l` runs one of the closures built by `register` (upvalue 1 is the
/// engine userdata, alive while the closure is).
unsafe fn engine(l: State) -> Result<*mut Engine, Fail> {
    let p = ffi::lua_touserdata(l, ffi::lua_upvalueindex(1)) as *mut Option<Engine>;
    match p.as_mut().and_then(Option::as_mut) {
        Some(e) => {
            e.ready();
            Ok(e)
        }
        // only a closure resurrected by a finalizer after the VM's teardown
        None => Err(Fail::Raise("ngx.re used after its VM was closed".into())),
    }
}

/// Group offsets of one match, copied out of the engine's match data.
/// Offsets fit in u32: LuaJIT strings are shorter than 2 GiB.
struct Spans {
    small: [(u32, u32); 16],
    big: Vec<(u32, u32)>,
    n: usize,
}

const UNSET: (u32, u32) = (u32::MAX, u32::MAX);

impl Spans {
    /// Groups `0..n` of the last match of `m`, `count` of them set.
    fn copy(m: &Matcher, n: usize, count: usize) -> Spans {
        let mut s = Spans {
            small: [UNSET; 16],
            big: Vec::new(),
            n,
        };
        let get = |i: usize| match (i < count).then(|| m.group(i)).flatten() {
            Some((a, b)) => (a as u32, b as u32),
            None => UNSET,
        };
        if n <= s.small.len() {
            for (i, slot) in s.small[..n].iter_mut().enumerate() {
                *slot = get(i);
            }
        } else {
            s.big = (0..n).map(get).collect();
        }
        s
    }

    fn get(&self, i: usize) -> Option<(usize, usize)> {
        let &(a, b) = if self.n <= self.small.len() {
            self.small[..self.n].get(i)?
        } else {
            self.big.get(i)?
        };
        (a != u32::MAX).then_some((a as usize, b as usize))
    }
}

/// Raise `msg` at the position of the first Lua frame outside moonwire's
/// own chunks (the user's call, even when it went through `re.lua`).
///
/// # Safety
/// As `raw::raise`: nothing with a destructor may be alive in the caller.
unsafe fn raise_user(l: State, msg: String) -> ! {
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    let mut pos = String::new();
    let mut level = 1;
    while ffi::lua_getstack(l, level, &mut ar) != 0 {
        ffi::lua_getinfo(l, c"Sl".as_ptr(), &mut ar);
        let src = CStr::from_ptr(ar.short_src.as_ptr()).to_string_lossy();
        let what = CStr::from_ptr(ar.what).to_bytes();
        if what != b"C" && !src.starts_with("moonwire.") {
            if ar.currentline > 0 {
                pos = format!("{src}:{}: ", ar.currentline);
            }
            break;
        }
        level += 1;
    }
    pos.push_str(&msg);
    drop(msg);
    raw::push_bytes(l, pos.as_bytes());
    drop(pos);
    ffi::lua_error(l)
}

/// Push the results of a failed call: `nil` `nils` times, then the message.
unsafe fn push_fail(l: State, f: Fail, nils: c_int) -> c_int {
    match f {
        Fail::Raise(msg) => raise_user(l, msg),
        Fail::Ret(msg) => {
            for _ in 0..nils {
                ffi::lua_pushnil(l);
            }
            raw::push_bytes(l, &msg);
            drop(msg);
            nils + 1
        }
    }
}

fn bad_arg(n: c_int, fname: &str, expected: &str, got: c_int) -> Fail {
    Fail::Raise(format!(
        "bad argument #{n} to '{fname}' ({expected} expected, got {})",
        raw::type_name(got)
    ))
}

/// Turn argument `idx` into a string with the original `tostring`, as
/// lua-resty-core does with subjects (`nil` matches "nil"). Strings and
/// numbers are left as they are. Called before any Rust value exists,
/// since a `__tostring` may raise.
unsafe fn to_string_arg(l: State, idx: c_int) {
    let t = ffi::lua_type(l, idx);
    if t != ffi::LUA_TSTRING && t != ffi::LUA_TNUMBER {
        ffi::lua_pushvalue(l, ffi::lua_upvalueindex(3));
        ffi::lua_pushvalue(l, idx);
        ffi::lua_call(l, 1, 1);
        ffi::lua_replace(l, idx);
    }
}

/// The string at `idx` (numbers are converted in place) and its address
/// (the `o` cache key part; 0 for an absent optional argument).
unsafe fn string_arg<'a>(
    l: State,
    idx: c_int,
    fname: &str,
    optional: bool,
) -> Result<(usize, &'a [u8]), Fail> {
    let mut len = 0;
    let p = ffi::lua_tolstring(l, idx, &mut len);
    if !p.is_null() {
        return Ok((p as usize, std::slice::from_raw_parts(p as *const u8, len)));
    }
    match ffi::lua_type(l, idx) {
        ffi::LUA_TNIL | ffi::LUA_TNONE if optional => Ok((0, &[])),
        t => Err(bad_arg(idx, fname, "string", t)),
    }
}

/// `ctx.pos` as a 0-based offset (absent, nil or <= 0 means 0), read
/// before anything else happens because `ctx` may have an `__index`.
unsafe fn ctx_pos(l: State, idx: c_int, ctx_type: c_int, fname: &str) -> Result<usize, Fail> {
    match ctx_type {
        ffi::LUA_TNIL | ffi::LUA_TNONE => Ok(0),
        ffi::LUA_TTABLE => {
            ffi::lua_getfield(l, idx, c"pos".as_ptr());
            let t = ffi::lua_type(l, -1);
            let n = ffi::lua_tonumber(l, -1);
            ffi::lua_pop(l, 1);
            match t {
                ffi::LUA_TNIL => Ok(0),
                // 1-based in Lua; a fraction is cut as the FFI int conversion does
                ffi::LUA_TNUMBER if n > 0.0 => Ok((n - 1.0) as usize),
                ffi::LUA_TNUMBER => Ok(0),
                t => Err(Fail::Raise(format!(
                    "bad argument #{idx} to '{fname}' (bad pos field type in the ctx table argument: {})",
                    raw::type_name(t)
                ))),
            }
        }
        t => Err(bad_arg(idx, fname, "table", t)),
    }
}

/// The compiled regex for the pattern at `re_idx` and the options at
/// `opts_idx`, from the cache when the options have `o`.
unsafe fn compiled(
    l: State,
    ep: *mut Engine,
    re_idx: c_int,
    opts_idx: c_int,
    fname: &str,
) -> Result<Rc<Regex>, Fail> {
    let (pat_key, pat) = string_arg(l, re_idx, fname, false)?;
    let (opts_key, opts) = string_arg(l, opts_idx, fname, true)?;
    let key = (pat_key, opts_key);
    // only options with `o` were ever stored, so a hit needs no parsing
    if opts_key != 0 {
        if let Some(re) = (*ep).cache.get(&key) {
            return Ok(re.clone());
        }
    }
    let o = Options::parse(opts).map_err(|c| {
        Fail::Raise(format!(
            "unknown flag \"{}\" (flags \"{}\")",
            String::from_utf8_lossy(&[c]),
            String::from_utf8_lossy(opts)
        ))
    })?;
    let (re, inserted) = {
        let e = &mut *ep;
        let re = Rc::new(Regex::new(pat, o).map_err(|err| Fail::Ret(err.0))?);
        let inserted = o.compile_once.then(|| e.cache.insert(key, re.clone()));
        (re, inserted)
    };
    match inserted {
        Some(Insert::Stored) => {
            for idx in [re_idx, opts_idx] {
                ffi::lua_pushvalue(l, idx);
                ffi::lua_pushboolean(l, 1);
                ffi::lua_rawset(l, ffi::lua_upvalueindex(2));
            }
        }
        Some(Insert::Full { first: true }) => log(
            Level::Warn,
            &format!(
                "lua exceeding regex cache max entries ({})",
                (*ep).cache.max()
            ),
        ),
        _ => {}
    }
    Ok(re)
}

/// Log with the current request's context when there is one.
fn log(level: Level, msg: &str) {
    driver::with_current(|r| match r {
        Some(r) => r.log(level, msg),
        None => crate::log::log(level, msg),
    })
}

/// Fill the captures table at absolute index `t` from the last match, as
/// lua-resty-core does: `[0..ncaptures]` hold the groups (`false` for one
/// that did not take part), names map to their group's value (with `D`, to
/// the list of the matched values of groups of that name).
unsafe fn fill_captures(l: State, t: c_int, re: &Regex, spans: &Spans, subj: &[u8]) {
    for i in 0..=re.captures() {
        match spans.get(i) {
            Some((a, b)) => raw::push_bytes(l, &subj[a..b]),
            None => ffi::lua_pushboolean(l, 0),
        }
        ffi::lua_rawseti(l, t, i as ffi::lua_Integer);
    }
    if re.names().is_empty() {
        return;
    }
    let dup = re.options().dupnames;
    for (group, name) in re.names() {
        raw::push_bytes(l, name);
        ffi::lua_rawgeti(l, t, *group as ffi::lua_Integer); // name cap
        if !dup {
            ffi::lua_rawset(l, t);
            continue;
        }
        if ffi::lua_type(l, -1) != ffi::LUA_TSTRING {
            ffi::lua_pop(l, 2);
            continue;
        }
        ffi::lua_pushvalue(l, -2);
        ffi::lua_rawget(l, t); // name cap old
        if ffi::lua_type(l, -1) == ffi::LUA_TTABLE {
            let n = ffi::lua_objlen(l, -1);
            ffi::lua_insert(l, -2); // name old cap
            ffi::lua_rawseti(l, -2, (n + 1) as ffi::lua_Integer);
            ffi::lua_pop(l, 2);
        } else {
            ffi::lua_pop(l, 1);
            ffi::lua_createtable(l, 1, 0); // name cap list
            ffi::lua_insert(l, -2);
            ffi::lua_rawseti(l, -2, 1); // name list
            ffi::lua_rawset(l, t);
        }
    }
}

/// ngx.re.match / ngx.re.find.
unsafe fn match_impl(l: State, find: bool) -> Result<c_int, Fail> {
    let fname = if find { "find" } else { "match" };
    let has_ctx = ffi::lua_type(l, 4);
    let pos = ctx_pos(l, 4, has_ctx, fname)?;
    let has_ctx = has_ctx == ffi::LUA_TTABLE;
    let res_tab = match ffi::lua_type(l, 5) {
        ffi::LUA_TNIL | ffi::LUA_TNONE => None,
        ffi::LUA_TTABLE if !find => Some(5),
        ffi::LUA_TNUMBER if find => None,
        t => return Err(bad_arg(5, fname, if find { "number" } else { "table" }, t)),
    };
    let ep = engine(l)?;
    let re = compiled(l, ep, 2, 3, fname)?;
    let subj = raw::to_bytes(l, 1);
    let spans = {
        let m = &mut (*ep).matcher;
        let count = match m.exec(&re, subj, pos) {
            Ok(Some(n)) => n,
            Ok(None) => {
                ffi::lua_pushnil(l);
                return Ok(1);
            }
            Err(rc) => return Err(pcre_failed(rc)),
        };
        Spans::copy(m, re.captures() + 1, count)
    };
    let (_, end) = spans.get(0).unwrap_or((pos, pos));
    if find {
        let nth = match ffi::lua_type(l, 5) {
            ffi::LUA_TNUMBER => ffi::lua_tonumber(l, 5).max(0.0) as usize,
            _ => 0,
        };
        if nth > re.captures() {
            return Err(Fail::Ret(b"nth out of bound".to_vec()));
        }
        drop(re);
        if has_ctx {
            set_ctx_pos(l, end);
        }
        match spans.get(nth) {
            Some((a, b)) => {
                ffi::lua_pushinteger(l, (a + 1) as ffi::lua_Integer);
                ffi::lua_pushinteger(l, b as ffi::lua_Integer);
            }
            None => {
                ffi::lua_pushnil(l);
                ffi::lua_pushnil(l);
            }
        }
        return Ok(2);
    }
    let t = match res_tab {
        Some(i) => i,
        None => {
            ffi::lua_createtable(l, re.captures() as c_int, re.names().len() as c_int);
            ffi::lua_gettop(l)
        }
    };
    fill_captures(l, t, &re, &spans, subj);
    drop(re);
    drop(spans);
    if has_ctx {
        set_ctx_pos(l, end);
    }
    ffi::lua_pushvalue(l, t);
    Ok(1)
}

/// `ctx.pos = end + 1` (an ordinary assignment, as in lua-resty-core:
/// done last, since `__newindex` may run Lua).
unsafe fn set_ctx_pos(l: State, end: usize) {
    ffi::lua_pushinteger(l, (end + 1) as ffi::lua_Integer);
    ffi::lua_setfield(l, 4, c"pos".as_ptr());
}

unsafe extern "C-unwind" fn re_match(l: State) -> c_int {
    ffi::lua_settop(l, 5);
    to_string_arg(l, 1);
    match match_impl(l, false) {
        Ok(n) => n,
        Err(f) => push_fail(l, f, 1),
    }
}

unsafe extern "C-unwind" fn re_find(l: State) -> c_int {
    ffi::lua_settop(l, 5);
    to_string_arg(l, 1);
    match match_impl(l, true) {
        Ok(n) => n,
        Err(f) => push_fail(l, f, 2),
    }
}

/// ngx.re.sub / gsub with a string template: (subj, regex, replace, opts),
/// subject and template already strings.
unsafe fn sub_impl(l: State, global: bool) -> Result<c_int, Fail> {
    let fname = if global { "gsub" } else { "sub" };
    let ep = engine(l)?;
    let re = compiled(l, ep, 2, 4, fname)?;
    let subj = raw::to_bytes(l, 1);
    let tpl_src = raw::to_bytes(l, 3);
    // the whole substitution runs without calling Lua
    let (out, count) = {
        let e = &mut *ep;
        if let Err(te) = e.tpl.parse(tpl_src) {
            // logged without the request, as lua-nginx-module does (cycle log)
            crate::log::log(Level::Error, &te.log_message());
            return Err(Fail::Ret(
                b"failed to compile the replacement template".to_vec(),
            ));
        }
        let mut out = std::mem::take(&mut e.out);
        out.clear();
        let (mut pos, mut copied, mut count) = (0usize, 0usize, 0usize);
        loop {
            let n = match e.matcher.exec(&re, subj, pos) {
                Ok(Some(n)) => n,
                Ok(None) => break,
                Err(rc) => {
                    e.out = out;
                    return Err(pcre_failed(rc));
                }
            };
            let (from, to) = e.matcher.group(0).unwrap_or((pos, pos));
            count += 1;
            out.extend_from_slice(subj.get(copied..from).unwrap_or_default());
            e.tpl.expand(tpl_src, subj, &e.matcher, n, &mut out);
            copied = to;
            pos = to;
            if from == to {
                // an empty match: search again one byte further, copying nothing yet
                pos += 1;
                if pos > subj.len() {
                    break;
                }
            }
            if !global {
                break;
            }
        }
        if count > 0 {
            out.extend_from_slice(subj.get(copied..).unwrap_or_default());
        }
        (out, count)
    };
    drop(re);
    if count == 0 {
        ffi::lua_pushvalue(l, 1);
    } else {
        raw::push_bytes(l, &out);
    }
    ffi::lua_pushinteger(l, count as ffi::lua_Integer);
    if out.capacity() <= MAX_KEPT_BUFFER {
        (*ep).out = out;
    }
    Ok(2)
}

unsafe fn sub_c(l: State, global: bool) -> c_int {
    ffi::lua_settop(l, 4);
    to_string_arg(l, 1);
    to_string_arg(l, 3);
    match sub_impl(l, global) {
        Ok(n) => n,
        Err(f) => push_fail(l, f, 2),
    }
}

unsafe extern "C-unwind" fn re_sub(l: State) -> c_int {
    sub_c(l, false)
}

unsafe extern "C-unwind" fn re_gsub(l: State) -> c_int {
    sub_c(l, true)
}

/// `compile(regex, opts, fname)`: a handle for re.lua, or `nil, err`.
unsafe extern "C-unwind" fn re_compile(l: State) -> c_int {
    ffi::lua_settop(l, 3);
    let r = {
        let fname = raw::to_bytes(l, 3);
        let fname = std::str::from_utf8(fname).unwrap_or("?");
        engine(l).and_then(|ep| compiled(l, ep, 1, 2, fname))
    };
    match r {
        Ok(re) => {
            push_handle(l, re);
            1
        }
        Err(f) => push_fail(l, f, 1),
    }
}

unsafe fn push_handle(l: State, re: Rc<Regex>) {
    let slot = ffi::lua_newuserdata(l, std::mem::size_of::<*const Regex>()) as *mut *const Regex;
    slot.write(Rc::into_raw(re));
    ffi::luaL_getmetatable(l, HANDLE_MT.as_ptr());
    ffi::lua_setmetatable(l, -2);
}

/// The regex of the handle at `idx`, if it is one.
unsafe fn handle<'a>(l: State, idx: c_int) -> Option<&'a Regex> {
    let p = ffi::lua_touserdata(l, idx) as *const *const Regex;
    if p.is_null() || (*p).is_null() || ffi::lua_getmetatable(l, idx) == 0 {
        return None;
    }
    ffi::luaL_getmetatable(l, HANDLE_MT.as_ptr());
    let ours = ffi::lua_rawequal(l, -1, -2) != 0;
    ffi::lua_pop(l, 2);
    ours.then(|| &**p)
}

unsafe extern "C-unwind" fn handle_gc(l: State) -> c_int {
    let slot = ffi::lua_touserdata(l, 1) as *mut *const Regex;
    if !slot.is_null() && !(*slot).is_null() {
        drop(Rc::from_raw(std::ptr::replace(slot, std::ptr::null())));
    }
    0
}

/// `exec(handle, subj, pos, want_caps)` for re.lua: on a match
/// `from, to` (0-based, end exclusive) then the captures table (with
/// `want_caps`) or group 1's string (split); `nil` for no match;
/// `nil, err` on failure.
unsafe extern "C-unwind" fn re_exec(l: State) -> c_int {
    ffi::lua_settop(l, 4);
    let Some(re) = handle(l, 1) else {
        raw::raise(l, "bad regex handle".to_string())
    };
    let subj = raw::to_bytes(l, 2);
    let pos = ffi::lua_tonumber(l, 3).max(0.0) as usize;
    let want_caps = ffi::lua_toboolean(l, 4) != 0;
    let ep = match engine(l) {
        Ok(ep) => ep,
        Err(f) => return push_fail(l, f, 1),
    };
    let r = {
        let m = &mut (*ep).matcher;
        m.exec(re, subj, pos)
            .map(|c| c.map(|count| Spans::copy(m, re.captures() + 1, count)))
    };
    let spans = match r {
        Ok(Some(s)) => s,
        Ok(None) => {
            ffi::lua_pushnil(l);
            return 1;
        }
        Err(rc) => return push_fail(l, pcre_failed(rc), 1),
    };
    let (from, to) = spans.get(0).unwrap_or((pos, pos));
    ffi::lua_pushinteger(l, from as ffi::lua_Integer);
    ffi::lua_pushinteger(l, to as ffi::lua_Integer);
    if want_caps {
        ffi::lua_createtable(l, re.captures() as c_int, re.names().len() as c_int);
        fill_captures(l, ffi::lua_gettop(l), re, &spans, subj);
    } else {
        match spans.get(1) {
            Some((a, b)) => raw::push_bytes(l, &subj[a..b]),
            None => ffi::lua_pushnil(l),
        }
    }
    3
}

/// `jit_stack(size)`: `true`, or `nil, err` for `ngx.re.opt` to raise.
unsafe extern "C-unwind" fn re_jit_stack(l: State) -> c_int {
    let ep = match engine(l) {
        Ok(ep) => ep,
        Err(f) => return push_fail(l, f, 1),
    };
    let e = &mut *ep;
    let r = if ffi::lua_type(l, 1) != ffi::LUA_TNUMBER {
        Err(format!(
            "bad argument #2 to 'opt' (number expected, got {})",
            raw::type_name(ffi::lua_type(l, 1))
        ))
    } else if !e.cache.is_empty() {
        Err("changing jit stack size is not allowed when some regexs have already been compiled and cached".to_string())
    } else {
        let size = ffi::lua_tonumber(l, 1).max(0.0) as usize;
        e.matcher.set_jit_stack_size(size).map_err(str::to_string)
    };
    match r {
        Ok(()) => {
            ffi::lua_pushboolean(l, 1);
            1
        }
        Err(msg) => push_fail(l, Fail::Ret(msg.into_bytes()), 1),
    }
}

unsafe extern "C-unwind" fn engine_gc(l: State) -> c_int {
    let p = ffi::lua_touserdata(l, 1) as *mut Option<Engine>;
    if !p.is_null() {
        // the slot holds Some until this runs; take() makes a second run harmless
        drop((*p).take());
    }
    0
}

pub fn register(lua: &Lua, ngx: &Table) -> mlua::Result<()> {
    let tostring: Function = lua.globals().get("tostring")?;
    const FUNCS: [(&CStr, ffi::lua_CFunction); 7] = [
        (c"match", re_match),
        (c"find", re_find),
        (c"sub", re_sub),
        (c"gsub", re_gsub),
        (c"compile", re_compile),
        (c"exec", re_exec),
        (c"jit_stack", re_jit_stack),
    ];
    const _: () = assert!(std::mem::align_of::<Option<Engine>>() <= 8);
    // SAFETY: exec_raw runs this inside a protected call with the argument
    // (tostring) on an otherwise empty stack and LUA_MINSTACK free slots;
    // the table left on top is the result. Every C function pushed follows
    // the raw-function rule of lua/raw.rs. The engine userdata is written
    // (as `Some`) before its `__gc` metatable is set, and LuaJIT userdata
    // is 8-byte aligned.
    let prims: Table = unsafe {
        lua.exec_raw(tostring, |l| {
            if ffi::luaL_newmetatable(l, HANDLE_MT.as_ptr()) != 0 {
                ffi::lua_pushcfunction(l, handle_gc);
                ffi::lua_setfield(l, -2, c"__gc".as_ptr());
                ffi::lua_pushboolean(l, 0);
                ffi::lua_setfield(l, -2, c"__metatable".as_ptr());
            }
            ffi::lua_pop(l, 1);
            // tostring
            let ud = ffi::lua_newuserdata(l, std::mem::size_of::<Option<Engine>>())
                as *mut Option<Engine>;
            ud.write(Some(Engine::new()));
            ffi::lua_createtable(l, 0, 1);
            ffi::lua_pushcfunction(l, engine_gc);
            ffi::lua_setfield(l, -2, c"__gc".as_ptr());
            ffi::lua_setmetatable(l, -2);
            ffi::lua_createtable(l, 0, 16); // tostring engine anchors
            ffi::lua_createtable(l, 0, FUNCS.len() as c_int);
            for (name, f) in FUNCS {
                ffi::lua_pushvalue(l, -3);
                ffi::lua_pushvalue(l, -3);
                ffi::lua_pushvalue(l, -6);
                ffi::lua_pushcclosure(l, f, 3);
                ffi::lua_setfield(l, -2, name.as_ptr() as *const c_char);
            }
            // leave only the table: it is the result
            ffi::lua_replace(l, -4);
            ffi::lua_pop(l, 2);
        })
    }?;
    lua.load(GLUE)
        .set_name("=moonwire.re")
        .call::<()>((ngx.clone(), prims))
}
