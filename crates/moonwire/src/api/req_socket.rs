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

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use mlua::{AnyUserData, Lua, MultiValue, Table, UserData, UserDataMethods, Value};
use ngx_cosocket::{Step, UntilMatcher};

use super::{check_phase, nil_err, ok1, one, req, yield_with};
use crate::log::Level;
use crate::lua::driver::Resumer;
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
    req: Rc<Req>,
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
    async fn fill(&self) -> Result<bool, ReadErr> {
        if self.eof.get() {
            return Ok(false);
        }
        let t = self.read_timeout.get();
        if !self.raw {
            return match tokio::time::timeout(t, body::next_piece(&self.req, 64 * 1024)).await {
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
        let stream = &self.req.conn.stream;
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
            match self.fill().await {
                Ok(_) => {}
                Err(e) => {
                    if e != ReadErr::Timeout {
                        self.broken.set(true);
                    } else if self.log_errors {
                        self.req.log(Level::Error, "lua tcp socket read timed out");
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

async fn receive_pattern(s: &ReqSock, p: Pattern) -> Result<Bytes, (ReadErr, Bytes)> {
    let take_all = |b: &mut BytesMut| b.split().freeze();
    match p {
        Pattern::Bytes(n) => {
            s.read_op(
                |b, _| (b.len() >= n).then(|| b.split_to(n).freeze()),
                take_all,
            )
            .await
        }
        Pattern::All => {
            s.read_op(|b, eof| eof.then(|| b.split().freeze()), take_all)
                .await
        }
        Pattern::Any(max) => {
            s.read_op(
                |b, _| (!b.is_empty()).then(|| b.split_to(max.min(b.len())).freeze()),
                take_all,
            )
            .await
        }
        Pattern::Line => {
            let mut scanned = 0;
            s.read_op(
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

/// The socket's userdata, after the checks every method makes.
fn checked(lua: &Lua, ud: &AnyUserData) -> mlua::Result<Rc<ReqSock>> {
    let s = ud.borrow::<Handle>()?.0.clone();
    let current = crate::lua::driver::with_current(|r| r.map(|r| r.id));
    if current != Some(s.req.id) {
        return Err(super::lua_err(lua, 2, "bad request"));
    }
    Ok(s)
}

/// The values a failed receive returns: `nil, err, partial`.
fn failure(lua: &Lua, e: ReadErr, partial: &[u8]) -> mlua::Result<MultiValue> {
    let mut mv = MultiValue::new();
    mv.push_back(Value::Nil);
    mv.push_back(Value::String(lua.create_string(e.as_str())?));
    mv.push_back(Value::String(lua.create_string(partial)?));
    Ok(mv)
}

fn start_read(
    lua: &Lua,
    s: Rc<ReqSock>,
    op: impl std::future::Future<Output = Result<Option<Bytes>, (ReadErr, Bytes)>> + 'static,
) -> mlua::Result<MultiValue> {
    if s.broken.get() {
        return nil_err(lua, "closed");
    }
    if s.reading.replace(true) {
        return nil_err(lua, "socket busy reading");
    }
    yield_with(async move {
        let r = op.await;
        s.reading.set(false);
        let resumer: Resumer = Box::new(move |lua| match r {
            Ok(Some(b)) => one(Value::String(lua.create_string(&b)?)),
            Ok(None) => {
                let mut mv = MultiValue::new();
                mv.push_back(Value::Nil);
                mv.push_back(Value::Nil);
                Ok(mv)
            }
            Err((e, partial)) => failure(lua, e, &partial),
        });
        resumer
    })
}

fn receive(lua: &Lua, ud: AnyUserData, pat: Value) -> mlua::Result<MultiValue> {
    check_phase(super::YIELDABLE)?;
    let s = checked(lua, &ud)?;
    let p = match &pat {
        Value::Nil => Pattern::Line,
        Value::String(p) => match &*p.as_bytes() {
            b"*l" => Pattern::Line,
            b"*a" => Pattern::All,
            other => match std::str::from_utf8(other)
                .ok()
                .and_then(|x| x.parse::<f64>().ok())
            {
                Some(n) if n >= 0.0 => Pattern::Bytes(n as usize),
                Some(_) => {
                    return Err(super::lua_err(
                        lua,
                        2,
                        "bad pattern argument beginning with '-'",
                    ))
                }
                None => {
                    return Err(super::lua_err(
                        lua,
                        2,
                        format!("bad pattern argument: {}", String::from_utf8_lossy(other)),
                    ))
                }
            },
        },
        Value::Integer(n) if *n >= 0 => Pattern::Bytes(*n as usize),
        Value::Number(n) if *n >= 0.0 => Pattern::Bytes(*n as usize),
        Value::Integer(_) | Value::Number(_) => {
            return Err(super::lua_err(
                lua,
                2,
                "bad pattern argument: negative number",
            ))
        }
        other => {
            return Err(super::lua_err(
                lua,
                2,
                format!(
                    "bad argument #2 to 'receive' (string expected, got {})",
                    other.type_name()
                ),
            ))
        }
    };
    let s2 = s.clone();
    start_read(
        lua,
        s,
        async move { receive_pattern(&s2, p).await.map(Some) },
    )
}

fn receiveany(lua: &Lua, ud: AnyUserData, max: Value) -> mlua::Result<MultiValue> {
    check_phase(super::YIELDABLE)?;
    let s = checked(lua, &ud)?;
    let max = match max {
        Value::Integer(n) if n > 0 => n as usize,
        Value::Number(n) if n >= 1.0 => n as usize,
        Value::String(ref st)
            if st
                .to_str()
                .ok()
                .and_then(|x| x.parse::<f64>().ok())
                .is_some_and(|n| n >= 1.0) =>
        {
            st.to_str()?.parse::<f64>().unwrap_or(1.0) as usize
        }
        Value::Integer(_) | Value::Number(_) | Value::String(_) => {
            return Err(super::lua_err(
                lua,
                2,
                "bad argument #2 to 'receiveany' (bad max argument)",
            ))
        }
        other => {
            return Err(super::lua_err(
                lua,
                2,
                format!(
                    "bad argument #2 to 'receiveany' (number expected, got {})",
                    other.type_name()
                ),
            ))
        }
    };
    let s2 = s.clone();
    start_read(lua, s, async move {
        receive_pattern(&s2, Pattern::Any(max)).await.map(Some)
    })
}

/// A `receiveuntil` iterator's matcher.
struct Until(Rc<RefCell<UntilMatcher>>);

impl UserData for Until {}

fn until_step(
    lua: &Lua,
    ud: AnyUserData,
    it: AnyUserData,
    size: Option<f64>,
) -> mlua::Result<MultiValue> {
    check_phase(super::YIELDABLE)?;
    let s = checked(lua, &ud)?;
    let m = it.borrow::<Until>()?.0.clone();
    let size = size.filter(|&n| n > 0.0).map(|n| n as usize).unwrap_or(0);
    let s2 = s.clone();
    start_read(lua, s, async move {
        let m2 = m.clone();
        s2.read_op(
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
    })
}

fn send(lua: &Lua, ud: AnyUserData, data: Value) -> mlua::Result<MultiValue> {
    check_phase(super::YIELDABLE)?;
    let s = checked(lua, &ud)?;
    let mut buf = Vec::new();
    super::output::render_send(lua, &data, &mut buf, true)?;
    if s.write_closed.get() {
        return nil_err(lua, "closed");
    }
    if s.writing.replace(true) {
        return nil_err(lua, "socket busy writing");
    }
    yield_with(async move {
        let n = buf.len();
        let r = tokio::time::timeout(
            s.send_timeout.get(),
            crate::http::write_all(&s.req.conn.stream, &buf),
        )
        .await;
        s.writing.set(false);
        let err = match r {
            Ok(Ok(())) => None,
            Err(_) => {
                if s.log_errors {
                    s.req.log(Level::Error, "lua tcp socket write timed out");
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
            s.req.resp.borrow_mut().bytes_sent += n as u64;
        }
        let resumer: Resumer = Box::new(move |lua| match err {
            None => one(Value::Integer(n as i64)),
            Some(e) => nil_err(lua, e),
        });
        resumer
    })
}

fn timeout_ms(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        Value::Number(n) => Some(*n as i64),
        Value::Nil => Some(0),
        _ => None,
    }
}

struct Handle(Rc<ReqSock>);

impl UserData for Handle {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_function("receive", |lua, (ud, pat): (AnyUserData, Value)| {
            receive(lua, ud, pat)
        });
        m.add_function("receiveany", |lua, (ud, max): (AnyUserData, Value)| {
            receiveany(lua, ud, max)
        });
        m.add_function(
            "new_until",
            |lua, (ud, pat, opts): (AnyUserData, mlua::LuaString, Value)| {
                let _ = checked(lua, &ud)?;
                let inclusive = match &opts {
                    Value::Nil => false,
                    Value::Table(t) => match t.get::<Value>("inclusive")? {
                        Value::Nil => false,
                        Value::Boolean(b) => b,
                        other => {
                            return Err(mlua::Error::runtime(format!(
                                "bad \"inclusive\" option value type: {}",
                                other.type_name()
                            )))
                        }
                    },
                    other => {
                        return Err(super::lua_err(
                            lua,
                            2,
                            format!(
                                "bad argument #3 to 'receiveuntil' (table expected, got {})",
                                other.type_name()
                            ),
                        ))
                    }
                };
                match UntilMatcher::new(&pat.as_bytes(), inclusive) {
                    Ok(m) => one(Value::UserData(
                        lua.create_userdata(Until(Rc::new(RefCell::new(m))))?,
                    )),
                    Err(e) => nil_err(lua, &e.to_string()),
                }
            },
        );
        m.add_function(
            "receiveuntil_step",
            |lua, (ud, it, size): (AnyUserData, AnyUserData, Option<f64>)| {
                until_step(lua, ud, it, size)
            },
        );
        m.add_function("send", |lua, (ud, data): (AnyUserData, Value)| {
            send(lua, ud, data)
        });
        m.add_function("settimeout", |lua, (ud, ms): (AnyUserData, Value)| {
            let s = checked(lua, &ud)?;
            let ms = timeout_ms(&ms).unwrap_or(0);
            let conf = &s.req.loc;
            let (r, w) = if ms <= 0 {
                (conf.socket_read_timeout_ms, conf.socket_send_timeout_ms)
            } else {
                (ms as u64, ms as u64)
            };
            s.read_timeout.set(Duration::from_millis(r));
            s.send_timeout.set(Duration::from_millis(w));
            Ok(())
        });
        m.add_function("settimeouts", |lua, (ud, args): (AnyUserData, MultiValue)| {
            let s = checked(lua, &ud)?;
            if args.len() != 3 {
                return Err(mlua::Error::runtime(format!(
                    "ngx.socket settimeout: expecting 4 arguments (including the object) but seen {}",
                    args.len() + 1
                )));
            }
            let v: Vec<i64> = args.iter().map(|a| timeout_ms(a).unwrap_or(0)).collect();
            let conf = &s.req.loc;
            let pick = |v: i64, d: u64| if v <= 0 { d } else { v as u64 };
            s.send_timeout.set(Duration::from_millis(pick(v[1], conf.socket_send_timeout_ms)));
            s.read_timeout.set(Duration::from_millis(pick(v[2], conf.socket_read_timeout_ms)));
            Ok(())
        });
        m.add_function("shutdown", |lua, (ud, how): (AnyUserData, Value)| {
            let s = checked(lua, &ud)?;
            if !matches!(&how, Value::String(h) if &*h.as_bytes() == b"send") {
                return nil_err(lua, "unsupported shutdown direction");
            }
            if s.write_closed.replace(true) {
                return nil_err(lua, "closed");
            }
            let _ = socket2::SockRef::from(&*s.req.conn.stream).shutdown(std::net::Shutdown::Write);
            ok1()
        });
    }
}

/// `ngx.req.socket(raw?)`: the userdata the Lua glue wraps, or `nil, err`.
fn new_socket(lua: &Lua, args: MultiValue) -> mlua::Result<MultiValue> {
    let raw = match args.len() {
        0 => false,
        1 => match args.front() {
            Some(Value::Boolean(b)) => *b,
            Some(Value::Nil) => false,
            Some(other) => {
                return Err(super::lua_err(
                    lua,
                    2,
                    format!(
                        "bad argument #1 to 'socket' (boolean expected, got {})",
                        other.type_name()
                    ),
                ))
            }
            None => false,
        },
        n => {
            return Err(mlua::Error::runtime(format!(
                "expecting zero arguments, but got {n}"
            )))
        }
    };
    check_phase(&[
        Phase::ServerRewrite,
        Phase::Rewrite,
        Phase::Access,
        Phase::Content,
    ])?;
    let r = req()?;
    let state = r.body.borrow().state;
    let initial = if raw {
        if matches!(state, BodyState::Reading | BodyState::Socket) && r.body.borrow().pending() {
            return nil_err(lua, "pending request body reading in some other thread");
        }
        if state == BodyState::Raw {
            return nil_err(lua, "duplicate call");
        }
        let mut resp = r.resp.borrow_mut();
        if resp.buffered.is_some() {
            return nil_err(lua, "http 1.0 buffering");
        }
        if out::try_flush(&r, &mut resp).is_err() || !resp.out.is_empty() {
            return nil_err(lua, "pending data to write");
        }
        // from now on the Lua code writes the response itself
        resp.headers_sent = true;
        resp.keepalive = false;
        drop(resp);
        body::take_raw(&r)
    } else {
        match state {
            BodyState::Read | BodyState::Socket | BodyState::Reading => {
                return nil_err(lua, "request body already exists")
            }
            BodyState::Discarded => return nil_err(lua, "request body discarded"),
            BodyState::Raw => return nil_err(lua, "request body already exists"),
            BodyState::Unread => {}
        }
        let has_body = r.head.chunked || r.head.content_length.is_some_and(|l| l > 0);
        if !has_body {
            return nil_err(lua, "no body");
        }
        r.body.borrow_mut().state = BodyState::Socket;
        BytesMut::new()
    };
    let conf = &r.loc;
    let s = ReqSock {
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
        req: r.clone(),
    };
    let mut mv = MultiValue::new();
    mv.push_back(Value::UserData(lua.create_userdata(Handle(Rc::new(s)))?));
    mv.push_back(Value::Boolean(raw));
    Ok(mv)
}

pub fn register(lua: &Lua, c: &Table) -> mlua::Result<()> {
    c.set("req_socket", lua.create_function(new_socket)?)
}
