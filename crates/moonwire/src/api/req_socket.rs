//! ngx.req.socket() and ngx.req.socket(true) (ngx_http_lua_socket_tcp.c,
//! `ngx_http_lua_req_socket`).
//!
//! The body socket reads the decoded request body (Content-Length or
//! chunked) and then says "closed". The raw socket is the client
//! connection itself, full duplex, for protocols such as WebSocket; the
//! connection is not reused after it.
//!
//! Receive patterns follow lua-nginx-module's input filters, as
//! ngx-cosocket's do; the buffer is the socket's own (the body socket's
//! bytes come through the body decoder, not straight from the connection),
//! and `receiveuntil` reuses ngx-cosocket's [`UntilMatcher`].
//!
//! Every method is a raw `lua_CFunction` (lua/raw.rs) that yields the
//! driver's marker itself when it must wait: WebSocket servers call them
//! for every frame. The Lua object is a table holding the userdata at
//! index 1, as in lua-nginx-module, so code may add or override methods.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, CStr};
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mlua::{ffi, Lua, MultiValue, Table, Value};
use ngx_cosocket::{Step, UntilMatcher};

use super::{check_phase, req};
use crate::log::Level;
use crate::lua::driver::{self, error_message, Pending, Resumer};
use crate::lua::raw::{self, State};
use crate::request::body::{self, State as BodyState};
use crate::request::output as out;
use crate::request::{Phase, Req};

/// Why a read stopped (OpenResty's err strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReadErr {
    Timeout,
    Closed,
    Reset,
}

impl ReadErr {
    fn as_str(self) -> &'static str {
        match self {
            ReadErr::Timeout => "timeout",
            ReadErr::Closed => "closed",
            ReadErr::Reset => "connection reset by peer",
        }
    }
}

struct ReqSock {
    /// The request it belongs to. Not an `Rc<Req>`: the Lua object may live
    /// until a GC long after the request (and its temp files) should be gone.
    req_id: u64,
    raw: bool,
    /// Received, not yet returned to Lua.
    rbuf: RefCell<BytesMut>,
    /// The input ended (end of body, or the client closed).
    eof: Cell<bool>,
    /// A read failed for good: later reads say "closed".
    broken: Cell<bool>,
    write_closed: Cell<bool>,
    reading: Cell<bool>,
    writing: Cell<bool>,
    read_timeout: Cell<Duration>,
    send_timeout: Cell<Duration>,
    log_errors: bool,
}

impl ReqSock {
    /// Get more input into `rbuf`: `Ok(false)` at its end.
    ///
    /// # Cancel safety
    /// Cancel safe: no borrow is held across an await.
    async fn fill(&self, req: &Req) -> Result<bool, ReadErr> {
        if self.eof.get() {
            return Ok(false);
        }
        let t = self.read_timeout.get();
        if !self.raw {
            return match tokio::time::timeout(t, body::next_piece(req, 64 * 1024)).await {
                Err(_) => Err(ReadErr::Timeout),
                Ok(Ok(Some(piece))) => {
                    self.rbuf.borrow_mut().extend_from_slice(&piece);
                    Ok(true)
                }
                Ok(Ok(None)) => {
                    self.eof.set(true);
                    Ok(false)
                }
                Ok(Err(e)) => {
                    let reset = matches!(&e, crate::http::BodyError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionReset);
                    if matches!(&e, crate::http::BodyError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut)
                    {
                        return Err(ReadErr::Timeout);
                    }
                    Err(if reset {
                        ReadErr::Reset
                    } else {
                        ReadErr::Closed
                    })
                }
            };
        }
        let stream = &req.conn.stream;
        loop {
            match tokio::time::timeout(t, stream.readable()).await {
                Err(_) => return Err(ReadErr::Timeout),
                Ok(Err(_)) => return Err(ReadErr::Closed),
                Ok(Ok(())) => {}
            }
            let r = {
                let mut b = self.rbuf.borrow_mut();
                if b.capacity() - b.len() < 2048 {
                    b.reserve(16 * 1024);
                }
                stream.try_read_buf(&mut *b)
            };
            match r {
                Ok(0) => {
                    self.eof.set(true);
                    return Ok(false);
                }
                Ok(_) => return Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                    return Err(ReadErr::Reset)
                }
                Err(_) => return Err(ReadErr::Closed),
            }
        }
    }

    /// Run `step` over the buffer until it yields a value, filling between
    /// tries. At the end of input `step` is asked once more with `eof`.
    async fn read_op<T>(
        &self,
        req: &Req,
        mut step: impl FnMut(&mut BytesMut, bool) -> Option<T>,
        partial: impl FnOnce(&mut BytesMut) -> Bytes,
    ) -> Result<T, (ReadErr, Bytes)> {
        loop {
            let eof = self.eof.get();
            if let Some(v) = step(&mut self.rbuf.borrow_mut(), eof) {
                return Ok(v);
            }
            if eof {
                let p = partial(&mut self.rbuf.borrow_mut());
                return Err((ReadErr::Closed, p));
            }
            match self.fill(req).await {
                Ok(_) => {}
                Err(e) => {
                    if e != ReadErr::Timeout {
                        self.broken.set(true);
                    } else if self.log_errors {
                        req.log(Level::Error, "lua tcp socket read timed out");
                    }
                    let p = partial(&mut self.rbuf.borrow_mut());
                    return Err((e, p));
                }
            }
        }
    }
}

#[derive(Clone, Copy)]
enum Pattern {
    Line,
    All,
    Bytes(usize),
    Any(usize),
}

fn strip_cr(b: BytesMut) -> Bytes {
    if memchr::memchr(b'\r', &b).is_none() {
        return b.freeze();
    }
    b.iter()
        .copied()
        .filter(|&c| c != b'\r')
        .collect::<Vec<u8>>()
        .into()
}

async fn receive_pattern(s: &ReqSock, req: &Req, p: Pattern) -> Result<Bytes, (ReadErr, Bytes)> {
    let take_all = |b: &mut BytesMut| b.split().freeze();
    match p {
        Pattern::Bytes(n) => {
            s.read_op(
                req,
                |b, _| (b.len() >= n).then(|| b.split_to(n).freeze()),
                take_all,
            )
            .await
        }
        Pattern::All => {
            s.read_op(req, |b, eof| eof.then(|| b.split().freeze()), take_all)
                .await
        }
        Pattern::Any(max) => {
            s.read_op(
                req,
                |b, _| (!b.is_empty()).then(|| b.split_to(max.min(b.len())).freeze()),
                take_all,
            )
            .await
        }
        Pattern::Line => {
            let mut scanned = 0;
            s.read_op(
                req,
                move |b, _| match memchr::memchr(b'\n', &b[scanned..]) {
                    Some(k) => {
                        let mut line = b.split_to(scanned + k + 1);
                        line.truncate(line.len() - 1);
                        Some(strip_cr(line))
                    }
                    None => {
                        scanned = b.len();
                        None
                    }
                },
                |b| strip_cr(b.split()),
            )
            .await
        }
    }
}

const UD_MT: &CStr = c"moonwire.req_socket";
const BODY_MT: &CStr = c"moonwire.req_socket.body";
const RAW_MT: &CStr = c"moonwire.req_socket.raw";
const UNTIL_MT: &CStr = c"moonwire.req_socket.until";

/// What a method does after its checks.
enum Act {
    /// Return this many values already pushed.
    Ret(c_int),
    /// Yield to the driver (the wait is registered).
    Wait,
}

/// `nil, err`.
unsafe fn nil_err(l: State, err: &str) -> Act {
    ffi::lua_pushnil(l);
    raw::push_bytes(l, err.as_bytes());
    Act::Ret(2)
}

unsafe fn finish(l: State, r: Result<Act, String>) -> c_int {
    match r {
        Ok(Act::Ret(n)) => n,
        Ok(Act::Wait) => {
            raw::push_yield(l);
            ffi::lua_yield(l, 1)
        }
        Err(e) => raw::raise(l, e),
    }
}

/// Whether the value at `idx` is a userdata with the metatable `name`.
unsafe fn has_mt(l: State, idx: c_int, name: &CStr) -> bool {
    if ffi::lua_getmetatable(l, idx) == 0 {
        return false;
    }
    ffi::luaL_getmetatable(l, name.as_ptr());
    let same = ffi::lua_rawequal(l, -1, -2) != 0;
    ffi::lua_pop(l, 2);
    same
}

/// The socket of the object at index 1 and its request, after the checks
/// every method makes.
unsafe fn sock_at(l: State, method: &str) -> Result<(Rc<ReqSock>, Rc<Req>), String> {
    if ffi::lua_type(l, 1) != ffi::LUA_TTABLE {
        return Err(format!(
            "bad argument #1 to '{method}' (table expected, got {})",
            raw::type_name(ffi::lua_type(l, 1))
        ));
    }
    ffi::lua_rawgeti(l, 1, 1);
    let p = ffi::lua_touserdata(l, -1);
    let ok = !p.is_null() && has_mt(l, -1, UD_MT);
    ffi::lua_pop(l, 1);
    if !ok {
        return Err("bad request socket".into());
    }
    // SAFETY: a userdata with UD_MT holds an Rc<ReqSock> (see new_socket).
    let s = (*(p as *const Rc<ReqSock>)).clone();
    let r = req().map_err(|e| error_message(&e))?;
    if r.id != s.req_id {
        return Err("bad request".into());
    }
    check_phase(super::YIELDABLE).map_err(|e| error_message(&e))?;
    Ok((s, r))
}

unsafe extern "C-unwind" fn gc_sock(l: State) -> c_int {
    let p = ffi::lua_touserdata(l, 1) as *mut Rc<ReqSock>;
    if !p.is_null() {
        // SAFETY: __gc runs once per userdata that new_socket initialized.
        std::ptr::drop_in_place(p);
    }
    0
}

unsafe extern "C-unwind" fn gc_until(l: State) -> c_int {
    let p = ffi::lua_touserdata(l, 1) as *mut Rc<RefCell<UntilMatcher>>;
    if !p.is_null() {
        // SAFETY: __gc runs once per userdata that receiveuntil initialized.
        std::ptr::drop_in_place(p);
    }
    0
}

/// Register a wait whose result is `data` or `nil, err, partial`.
fn start_read(
    s: Rc<ReqSock>,
    op: impl std::future::Future<Output = Result<Option<Bytes>, (ReadErr, Bytes)>> + 'static,
) -> Act {
    driver::set_pending(Pending::Wait(Box::pin(async move {
        let r = op.await;
        s.reading.set(false);
        let resumer: Resumer = Box::new(move |lua| {
            let mut mv = MultiValue::new();
            match r {
                Ok(Some(b)) => mv.push_back(Value::String(lua.create_string(&b)?)),
                Ok(None) => {
                    mv.push_back(Value::Nil);
                    mv.push_back(Value::Nil);
                }
                Err((e, partial)) => {
                    mv.push_back(Value::Nil);
                    mv.push_back(Value::String(lua.create_string(e.as_str())?));
                    mv.push_back(Value::String(lua.create_string(&partial)?));
                }
            }
            Ok(mv)
        });
        resumer
    })));
    Act::Wait
}

/// The checks before any read: `Err` carries the immediate `nil, err`.
fn may_read(s: &ReqSock) -> Result<(), &'static str> {
    if s.broken.get() {
        return Err("closed");
    }
    if s.reading.replace(true) {
        return Err("socket busy reading");
    }
    Ok(())
}

unsafe fn receive(l: State) -> Result<Act, String> {
    let (s, r) = sock_at(l, "receive")?;
    let p = match ffi::lua_type(l, 2) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => Pattern::Line,
        ffi::LUA_TNUMBER => {
            let n = ffi::lua_tonumber(l, 2);
            if n < 0.0 {
                return Err("bad pattern argument: negative number".into());
            }
            Pattern::Bytes(n as usize)
        }
        ffi::LUA_TSTRING => match raw::to_bytes(l, 2) {
            b"*l" => Pattern::Line,
            b"*a" => Pattern::All,
            other => match std::str::from_utf8(other)
                .ok()
                .and_then(|x| x.parse::<f64>().ok())
            {
                Some(n) if n >= 0.0 => Pattern::Bytes(n as usize),
                Some(_) => return Err("bad pattern argument beginning with '-'".into()),
                None => {
                    return Err(format!(
                        "bad pattern argument: {}",
                        String::from_utf8_lossy(other)
                    ))
                }
            },
        },
        t => {
            return Err(format!(
                "bad argument #2 to 'receive' (string expected, got {})",
                raw::type_name(t)
            ))
        }
    };
    if let Err(e) = may_read(&s) {
        return Ok(nil_err(l, e));
    }
    let s2 = s.clone();
    Ok(start_read(s, async move {
        receive_pattern(&s2, &r, p).await.map(Some)
    }))
}

unsafe extern "C-unwind" fn receive_c(l: State) -> c_int {
    let r = receive(l);
    finish(l, r)
}

unsafe fn receiveany(l: State) -> Result<Act, String> {
    let (s, r) = sock_at(l, "receiveany")?;
    let max = match ffi::lua_type(l, 2) {
        ffi::LUA_TNUMBER | ffi::LUA_TSTRING => {
            let n = std::str::from_utf8(raw::to_bytes(l, 2))
                .ok()
                .and_then(|x| x.trim().parse::<f64>().ok());
            match n {
                Some(n) if n >= 1.0 => n as usize,
                _ => return Err("bad argument #2 to 'receiveany' (bad max argument)".into()),
            }
        }
        t => {
            return Err(format!(
                "bad argument #2 to 'receiveany' (number expected, got {})",
                raw::type_name(t)
            ))
        }
    };
    if let Err(e) = may_read(&s) {
        return Ok(nil_err(l, e));
    }
    let s2 = s.clone();
    Ok(start_read(s, async move {
        receive_pattern(&s2, &r, Pattern::Any(max)).await.map(Some)
    }))
}

unsafe extern "C-unwind" fn receiveany_c(l: State) -> c_int {
    let r = receiveany(l);
    finish(l, r)
}

/// `sock:receiveuntil(pattern, opts?)`: an iterator over the socket and
/// a matcher (its two upvalues).
unsafe fn receiveuntil(l: State) -> Result<Act, String> {
    let _ = sock_at(l, "receiveuntil")?;
    if ffi::lua_type(l, 2) != ffi::LUA_TSTRING {
        return Err(format!(
            "bad argument #2 to 'receiveuntil' (string expected, got {})",
            raw::type_name(ffi::lua_type(l, 2))
        ));
    }
    let inclusive = match ffi::lua_type(l, 3) {
        ffi::LUA_TNONE | ffi::LUA_TNIL => false,
        ffi::LUA_TTABLE => {
            ffi::lua_getfield(l, 3, c"inclusive".as_ptr());
            let t = ffi::lua_type(l, -1);
            let v = ffi::lua_toboolean(l, -1) != 0;
            ffi::lua_pop(l, 1);
            match t {
                ffi::LUA_TNIL => false,
                ffi::LUA_TBOOLEAN => v,
                t => {
                    return Err(format!(
                        "bad \"inclusive\" option value type: {}",
                        raw::type_name(t)
                    ))
                }
            }
        }
        t => {
            return Err(format!(
                "bad argument #3 to 'receiveuntil' (table expected, got {})",
                raw::type_name(t)
            ))
        }
    };
    let m = match UntilMatcher::new(raw::to_bytes(l, 2), inclusive) {
        Ok(m) => m,
        Err(e) => return Ok(nil_err(l, &e.to_string())),
    };
    ffi::lua_pushvalue(l, 1);
    let p = ffi::lua_newuserdata(l, std::mem::size_of::<Rc<RefCell<UntilMatcher>>>())
        as *mut Rc<RefCell<UntilMatcher>>;
    // SAFETY: fresh userdata memory of the right size; __gc drops it.
    std::ptr::write(p, Rc::new(RefCell::new(m)));
    if ffi::luaL_newmetatable(l, UNTIL_MT.as_ptr()) != 0 {
        ffi::lua_pushcfunction(l, gc_until);
        ffi::lua_setfield(l, -2, c"__gc".as_ptr());
    }
    ffi::lua_setmetatable(l, -2);
    ffi::lua_pushcclosure(l, until_iter_c, 2);
    Ok(Act::Ret(1))
}

unsafe extern "C-unwind" fn receiveuntil_c(l: State) -> c_int {
    let r = receiveuntil(l);
    finish(l, r)
}

/// The iterator `receiveuntil` returns: `it(size?)`.
unsafe fn until_iter(l: State) -> Result<Act, String> {
    let size = match ffi::lua_type(l, 1) {
        ffi::LUA_TNUMBER => ffi::lua_tonumber(l, 1).max(0.0) as usize,
        _ => 0,
    };
    ffi::lua_settop(l, 0);
    ffi::lua_pushvalue(l, ffi::lua_upvalueindex(1));
    let (s, r) = sock_at(l, "receiveuntil")?;
    let p = ffi::lua_touserdata(l, ffi::lua_upvalueindex(2)) as *const Rc<RefCell<UntilMatcher>>;
    // SAFETY: upvalue 2 is the matcher userdata receiveuntil created.
    let m = (*p).clone();
    if let Err(e) = may_read(&s) {
        return Ok(nil_err(l, e));
    }
    let s2 = s.clone();
    Ok(start_read(s, async move {
        let m2 = m.clone();
        s2.read_op(
            &r,
            move |b, _| {
                let (used, step) = m.borrow_mut().step(b, size);
                let _ = b.split_to(used);
                match step {
                    Step::Data(d) => Some(Some(d)),
                    Step::End => Some(None),
                    Step::NeedMore => None,
                }
            },
            move |_| m2.borrow_mut().take_partial(),
        )
        .await
    }))
}

unsafe extern "C-unwind" fn until_iter_c(l: State) -> c_int {
    let r = until_iter(l);
    finish(l, r)
}

/// What `send` accepts, as tcpsock:send: strings, numbers, booleans and
/// nil at the top; (nested) array tables of strings and numbers.
unsafe fn render_send(l: State, idx: c_int, buf: &mut Vec<u8>, top: bool) -> Result<(), String> {
    match ffi::lua_type(l, idx) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => buf.extend_from_slice(raw::to_bytes(l, idx)),
        ffi::LUA_TBOOLEAN if top => buf.extend_from_slice(if ffi::lua_toboolean(l, idx) != 0 {
            b"true"
        } else {
            b"false"
        }),
        ffi::LUA_TNIL if top => buf.extend_from_slice(b"nil"),
        ffi::LUA_TTABLE => {
            if ffi::lua_checkstack(l, 3) == 0 {
                return Err("bad argument #1 to 'send' (nested table too deep)".into());
            }
            let n = ffi::lua_objlen(l, idx);
            ffi::lua_pushnil(l);
            while ffi::lua_next(l, idx) != 0 {
                ffi::lua_pop(l, 1);
                let k = if ffi::lua_type(l, -1) == ffi::LUA_TNUMBER {
                    ffi::lua_tonumber(l, -1)
                } else {
                    0.0
                };
                if k < 1.0 || k.fract() != 0.0 || k as usize > n {
                    ffi::lua_pop(l, 1);
                    return Err("bad argument #1 to 'send' (non-array table found)".into());
                }
            }
            for i in 1..=n {
                ffi::lua_rawgeti(l, idx, i as ffi::lua_Integer);
                let r = render_send(l, ffi::lua_gettop(l), buf, false);
                ffi::lua_pop(l, 1);
                r?;
            }
        }
        t if top => {
            return Err(format!(
                "bad argument #1 to 'send' (string, number, boolean, nil, or array table expected, got {})",
                raw::type_name(t)
            ))
        }
        t => {
            return Err(format!(
                "bad argument #1 to 'send' (bad data type {} found)",
                raw::type_name(t)
            ))
        }
    }
    Ok(())
}

unsafe fn send(l: State) -> Result<Act, String> {
    let (s, r) = sock_at(l, "send")?;
    let mut buf = Vec::new();
    render_send(l, 2, &mut buf, true)?;
    if s.write_closed.get() {
        return Ok(nil_err(l, "closed"));
    }
    if s.writing.replace(true) {
        return Ok(nil_err(l, "socket busy writing"));
    }
    driver::set_pending(Pending::Wait(Box::pin(async move {
        let n = buf.len();
        let w = tokio::time::timeout(
            s.send_timeout.get(),
            crate::http::write_all(&r.conn.stream, &buf),
        )
        .await;
        s.writing.set(false);
        let err = match w {
            Ok(Ok(())) => None,
            Err(_) => {
                if s.log_errors {
                    r.log(Level::Error, "lua tcp socket write timed out");
                }
                Some("timeout")
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => Some("broken pipe"),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                Some("connection reset by peer")
            }
            Ok(Err(_)) => Some("closed"),
        };
        if err.is_some() {
            s.write_closed.set(true);
        } else {
            r.resp.borrow_mut().bytes_sent += n as u64;
        }
        let resumer: Resumer = Box::new(move |lua| {
            let mut mv = MultiValue::new();
            match err {
                None => mv.push_back(Value::Integer(n as i64)),
                Some(e) => {
                    mv.push_back(Value::Nil);
                    mv.push_back(Value::String(lua.create_string(e)?));
                }
            }
            Ok(mv)
        });
        resumer
    })));
    Ok(Act::Wait)
}

unsafe extern "C-unwind" fn send_c(l: State) -> c_int {
    let r = send(l);
    finish(l, r)
}

/// A timeout argument in ms; 0, nil and negative numbers restore the default.
unsafe fn timeout_arg(l: State, idx: c_int, default_ms: u64) -> Duration {
    let ms = match ffi::lua_type(l, idx) {
        ffi::LUA_TNUMBER => ffi::lua_tonumber(l, idx) as i64,
        _ => 0,
    };
    Duration::from_millis(if ms <= 0 { default_ms } else { ms as u64 })
}

unsafe fn settimeout(l: State) -> Result<Act, String> {
    let (s, r) = sock_at(l, "settimeout")?;
    s.read_timeout
        .set(timeout_arg(l, 2, r.loc.socket_read_timeout_ms));
    s.send_timeout
        .set(timeout_arg(l, 2, r.loc.socket_send_timeout_ms));
    Ok(Act::Ret(0))
}

unsafe extern "C-unwind" fn settimeout_c(l: State) -> c_int {
    let r = settimeout(l);
    finish(l, r)
}

unsafe fn settimeouts(l: State) -> Result<Act, String> {
    let n = ffi::lua_gettop(l);
    if n != 4 {
        return Err(format!(
            "ngx.socket settimeout: expecting 4 arguments (including the object) but seen {n}"
        ));
    }
    let (s, r) = sock_at(l, "settimeouts")?;
    s.send_timeout
        .set(timeout_arg(l, 3, r.loc.socket_send_timeout_ms));
    s.read_timeout
        .set(timeout_arg(l, 4, r.loc.socket_read_timeout_ms));
    Ok(Act::Ret(0))
}

unsafe extern "C-unwind" fn settimeouts_c(l: State) -> c_int {
    let r = settimeouts(l);
    finish(l, r)
}

unsafe fn shutdown(l: State) -> Result<Act, String> {
    let (s, r) = sock_at(l, "shutdown")?;
    if ffi::lua_type(l, 2) != ffi::LUA_TSTRING || raw::to_bytes(l, 2) != b"send" {
        return Ok(nil_err(l, "unsupported shutdown direction"));
    }
    if s.write_closed.replace(true) {
        return Ok(nil_err(l, "closed"));
    }
    let _ = socket2::SockRef::from(&*r.conn.stream).shutdown(std::net::Shutdown::Write);
    ffi::lua_pushinteger(l, 1);
    Ok(Act::Ret(1))
}

unsafe extern "C-unwind" fn shutdown_c(l: State) -> c_int {
    let r = shutdown(l);
    finish(l, r)
}

/// Push the metatable of request-socket objects (`raw` ones can send).
unsafe fn push_object_mt(l: State, raw: bool) {
    let name = if raw { RAW_MT } else { BODY_MT };
    if ffi::luaL_newmetatable(l, name.as_ptr()) == 0 {
        return;
    }
    ffi::lua_createtable(l, 0, 8);
    let mut methods: Vec<(&CStr, ffi::lua_CFunction)> = vec![
        (c"receive", receive_c),
        (c"receiveany", receiveany_c),
        (c"receiveuntil", receiveuntil_c),
        (c"settimeout", settimeout_c),
        (c"settimeouts", settimeouts_c),
    ];
    if raw {
        methods.push((c"send", send_c));
        methods.push((c"shutdown", shutdown_c));
    }
    for (n, f) in methods {
        ffi::lua_pushcfunction(l, f);
        ffi::lua_setfield(l, -2, n.as_ptr());
    }
    ffi::lua_setfield(l, -2, c"__index".as_ptr());
}

/// The checks of `ngx.req.socket(raw)`; `Ok(Err(msg))` is `nil, msg`.
fn acquire(r: &Req, raw: bool) -> Result<BytesMut, &'static str> {
    let state = r.body.borrow().state;
    if raw {
        if matches!(state, BodyState::Reading | BodyState::Socket) && r.body.borrow().pending() {
            return Err("pending request body reading in some other thread");
        }
        if state == BodyState::Raw {
            return Err("duplicate call");
        }
        let mut resp = r.resp.borrow_mut();
        if resp.buffered.is_some() {
            return Err("http 1.0 buffering");
        }
        if out::try_flush(r, &mut resp).is_err() || !resp.out.is_empty() {
            return Err("pending data to write");
        }
        // from now on the Lua code writes the response itself
        resp.headers_sent = true;
        resp.keepalive = false;
        drop(resp);
        return Ok(body::take_raw(r));
    }
    match state {
        BodyState::Read | BodyState::Socket | BodyState::Reading | BodyState::Raw => {
            return Err("request body already exists")
        }
        BodyState::Discarded => return Err("request body discarded"),
        BodyState::Unread => {}
    }
    if !(r.head.chunked || r.head.content_length.is_some_and(|l| l > 0)) {
        return Err("no body");
    }
    r.body.borrow_mut().state = BodyState::Socket;
    Ok(BytesMut::new())
}

unsafe fn new_socket(l: State) -> Result<Act, String> {
    let raw = match ffi::lua_gettop(l) {
        0 => false,
        1 => match ffi::lua_type(l, 1) {
            ffi::LUA_TBOOLEAN => ffi::lua_toboolean(l, 1) != 0,
            ffi::LUA_TNIL => false,
            t => {
                return Err(format!(
                    "bad argument #1 to 'socket' (boolean expected, got {})",
                    raw::type_name(t)
                ))
            }
        },
        n => return Err(format!("expecting zero arguments, but got {n}")),
    };
    check_phase(&[
        Phase::ServerRewrite,
        Phase::Rewrite,
        Phase::Access,
        Phase::Content,
    ])
    .map_err(|e| error_message(&e))?;
    let r = req().map_err(|e| error_message(&e))?;
    let initial = match acquire(&r, raw) {
        Ok(b) => b,
        Err(e) => return Ok(nil_err(l, e)),
    };
    let conf = &r.loc;
    let s = ReqSock {
        req_id: r.id,
        raw,
        rbuf: RefCell::new(initial),
        eof: Cell::new(false),
        broken: Cell::new(false),
        write_closed: Cell::new(false),
        reading: Cell::new(false),
        writing: Cell::new(false),
        read_timeout: Cell::new(Duration::from_millis(conf.socket_read_timeout_ms)),
        send_timeout: Cell::new(Duration::from_millis(conf.socket_send_timeout_ms)),
        log_errors: conf.socket_log_errors,
    };
    drop(r);
    ffi::lua_settop(l, 0);
    ffi::lua_createtable(l, 1, 0);
    let p = ffi::lua_newuserdata(l, std::mem::size_of::<Rc<ReqSock>>()) as *mut Rc<ReqSock>;
    // SAFETY: fresh userdata memory of the right size; __gc drops it.
    std::ptr::write(p, Rc::new(s));
    if ffi::luaL_newmetatable(l, UD_MT.as_ptr()) != 0 {
        ffi::lua_pushcfunction(l, gc_sock);
        ffi::lua_setfield(l, -2, c"__gc".as_ptr());
    }
    ffi::lua_setmetatable(l, -2);
    ffi::lua_rawseti(l, 1, 1);
    push_object_mt(l, raw);
    ffi::lua_setmetatable(l, 1);
    Ok(Act::Ret(1))
}

unsafe extern "C-unwind" fn new_socket_c(l: State) -> c_int {
    let r = new_socket(l);
    finish(l, r)
}

pub fn register(lua: &Lua, ngx_req: &Table) -> mlua::Result<()> {
    // SAFETY: follows the raw-function rule in lua/raw.rs.
    ngx_req.set("socket", unsafe { lua.create_c_function(new_socket_c)? })
}
