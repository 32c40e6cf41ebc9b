//! ngx.socket.tcp / stream / connect (ngx_http_lua_socket_tcp.c) over the
//! Lua-free `ngx-cosocket` crate. Each Lua socket object is a table wrapping
//! a userdata; methods that wait return the driver's yield marker, which
//! the Lua wrapper (api/prelude.lua) turns into a coroutine yield.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use mlua::{AnyUserData, Lua, MultiValue, Table, UserData, UserDataMethods, Value};
use ngx_cosocket::{
    PoolConfig, PoolOptions, Pools, ReceiveUntil, SockError, SockOption, Target, TcpSock, Timeouts,
    TlsContext, TlsOptions,
};

use super::socket_udp::owner_ok;
use super::{check_phase, nil_err, ok1, one, yield_with, YIELDABLE};
use crate::log::Level;
use crate::lua::driver::{self, Resumer};

thread_local! {
    static POOLS: RefCell<Option<Pools>> = const { RefCell::new(None) };
    static TLS: RefCell<HashMap<(Vec<PathBuf>, u32), TlsContext>> = RefCell::new(HashMap::new());
}

/// This worker's keep-alive pools (created on first use).
fn pools() -> Pools {
    POOLS.with(|p| {
        p.borrow_mut()
            .get_or_insert_with(|| {
                Pools::new(PoolConfig {
                    size: 30,
                    idle_timeout: Duration::from_secs(60),
                })
            })
            .clone()
    })
}

/// Settings of the running request's location (defaults in timers).
#[derive(Clone)]
struct SockConf {
    timeouts: Timeouts,
    pool_size: usize,
    keepalive_ms: u64,
    log_errors: bool,
    resolver: Option<std::sync::Arc<crate::net::dns::ResolverConf>>,
    resolver_timeout: Duration,
    trusted: Vec<PathBuf>,
    verify_depth: u32,
}

fn sock_conf() -> SockConf {
    driver::with_current(|r| match r {
        Some(r) => {
            let l = &r.loc;
            SockConf {
                timeouts: Timeouts {
                    connect: Duration::from_millis(l.socket_connect_timeout_ms),
                    send: Duration::from_millis(l.socket_send_timeout_ms),
                    read: Duration::from_millis(l.socket_read_timeout_ms),
                },
                pool_size: l.socket_pool_size,
                keepalive_ms: l.socket_keepalive_timeout_ms,
                log_errors: l.socket_log_errors,
                resolver: l.resolver.clone(),
                resolver_timeout: Duration::from_millis(l.resolver_timeout_ms),
                trusted: l.ssl_trusted_certificate.iter().cloned().collect(),
                verify_depth: l.ssl_verify_depth,
            }
        }
        None => SockConf {
            timeouts: Timeouts::default(),
            pool_size: 30,
            keepalive_ms: 60_000,
            log_errors: true,
            resolver: None,
            resolver_timeout: Duration::from_secs(30),
            trusted: Vec::new(),
            verify_depth: 1,
        },
    })
}

struct Sock {
    sock: Rc<TcpSock>,
    owner: u64,
    conf: SockConf,
    /// Where we connected, for log messages.
    peer: RefCell<String>,
}

impl UserData for Sock {
    fn add_methods<M: UserDataMethods<Self>>(m: &mut M) {
        m.add_function("connect", |lua, (ud, args): (AnyUserData, MultiValue)| {
            connect(lua, ud, args)
        });
        m.add_function("send", |lua, (ud, data): (AnyUserData, Value)| {
            send(lua, ud, data)
        });
        m.add_function("receive", |lua, (ud, pat): (AnyUserData, Value)| {
            receive(lua, ud, pat)
        });
        m.add_function("receiveany", |lua, (ud, max): (AnyUserData, Value)| {
            receiveany(lua, ud, max)
        });
        m.add_function(
            "receiveuntil_step",
            |lua, (ud, it, size): (AnyUserData, AnyUserData, Option<f64>)| {
                receive_until(lua, ud, it, size)
            },
        );
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
                            )));
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
                if pat.as_bytes().is_empty() {
                    return nil_err(lua, "pattern is empty");
                }
                match ReceiveUntil::new(&pat.as_bytes(), inclusive) {
                    Ok(it) => one(Value::UserData(lua.create_userdata(Until(Rc::new(it)))?)),
                    Err(e) => nil_err(lua, &e.to_string()),
                }
            },
        );
        m.add_function("close", |lua, ud: AnyUserData| {
            let s = checked(lua, &ud)?;
            match s.sock.close() {
                Ok(()) => ok1(),
                Err(e) => nil_err(lua, &e.to_string()),
            }
        });
        m.add_function("settimeout", |lua, (ud, ms): (AnyUserData, Value)| {
            let s = checked(lua, &ud)?;
            s.sock
                .settimeout(num_or_zero(&ms))
                .map_err(|e| mlua::Error::runtime(e.to_string()))?;
            Ok(())
        });
        m.add_function("settimeouts", |lua, (ud, args): (AnyUserData, MultiValue)| {
            let s = checked(lua, &ud)?;
            if args.len() != 3 {
                return Err(mlua::Error::runtime(format!("ngx.socket settimeout: expecting 4 arguments (including the object) but seen {}", args.len() + 1),
                ));
            }
            let v: Vec<i64> = args.iter().map(num_or_zero).collect();
            s.sock.settimeouts(v[0], v[1], v[2]).map_err(|e| mlua::Error::runtime(e.to_string()))?;
            Ok(())
        });
        m.add_function(
            "setkeepalive",
            |lua, (ud, timeout, size): (AnyUserData, Option<f64>, Option<f64>)| {
                let s = checked(lua, &ud)?;
                let timeout = Some(
                    timeout
                        .map(|t| t.max(0.0) as u64)
                        .unwrap_or(s.conf.keepalive_ms),
                );
                if let Some(n) = size {
                    if n < 1.0 {
                        return Err(super::lua_err(
                            lua,
                            2,
                            format!("bad \"pool_size\" option value: {}", n as i64),
                        ));
                    }
                }
                let size = Some(size.map(|n| n as usize).unwrap_or(s.conf.pool_size));
                match s.sock.set_keepalive(&pools(), timeout, size) {
                    Ok(()) => ok1(),
                    Err(e) => nil_err(lua, &e.to_string()),
                }
            },
        );
        m.add_function("getreusedtimes", |lua, ud: AnyUserData| {
            let s = checked(lua, &ud)?;
            match s.sock.reused_times() {
                Ok(n) => one(Value::Integer(n as i64)),
                Err(e) => nil_err(lua, &e.to_string()),
            }
        });
        m.add_function(
            "setoption",
            |lua, (ud, name, v): (AnyUserData, String, Option<Value>)| {
                let s = checked(lua, &ud)?;
                let val = match v {
                    Some(Value::Boolean(b)) => b as i32,
                    Some(Value::Integer(i)) => i as i32,
                    Some(Value::Number(n)) => n as i32,
                    _ => 0,
                };
                let r = name
                    .parse::<SockOption>()
                    .and_then(|o| s.sock.setoption(o, val));
                match r {
                    Ok(()) => one(Value::Boolean(true)),
                    Err(e) => nil_err(lua, &e.to_string()),
                }
            },
        );
        m.add_function("getoption", |lua, (ud, name): (AnyUserData, String)| {
            let s = checked(lua, &ud)?;
            match name.parse::<SockOption>().and_then(|o| s.sock.getoption(o)) {
                Ok(v) => one(Value::Integer(v as i64)),
                Err(e) => nil_err(lua, &e.to_string()),
            }
        });
        m.add_function("bind", |lua, (ud, addr): (AnyUserData, String)| {
            let s = checked(lua, &ud)?;
            match addr.parse() {
                Ok(ip) => {
                    s.sock.bind(ip);
                    ok1()
                }
                Err(_) => nil_err(lua, "bad address"),
            }
        });
        m.add_function(
            "sslhandshake",
            |lua, (ud, args): (AnyUserData, MultiValue)| sslhandshake(lua, ud, args),
        );
    }
}

/// A `receiveuntil` iterator's state.
struct Until(Rc<ReceiveUntil>);

impl UserData for Until {}

/// The socket, after the phase and owner checks every method makes.
fn checked(lua: &Lua, ud: &AnyUserData) -> mlua::Result<mlua::UserDataRef<Sock>> {
    let s = ud.borrow::<Sock>()?;
    if !owner_ok(s.owner) {
        return Err(super::lua_err(lua, 2, "bad request"));
    }
    Ok(s)
}

/// Error-log a socket failure the way lua-nginx-module words it.
fn log_failure(conf: &SockConf, what: &str, e: &SockError, peer: &str) {
    if !conf.log_errors {
        return;
    }
    let msg = match (what, e) {
        ("connect", SockError::Timeout) => {
            format!("lua tcp socket connect timed out, when connecting to {peer}")
        }
        ("queue", SockError::Timeout) => {
            format!("lua tcp socket queued connect timed out, when trying to connect to {peer}")
        }
        ("read", SockError::Timeout) => "lua tcp socket read timed out".to_string(),
        ("send", SockError::Timeout) => "lua tcp socket write timed out".to_string(),
        ("connect", SockError::ConnectionRefused) => {
            "connect() failed (111: Connection refused)".to_string()
        }
        ("read", SockError::ConnectionReset) => {
            "recv() failed (104: Connection reset by peer)".to_string()
        }
        ("send", SockError::ConnectionReset) => {
            "send() failed (104: Connection reset by peer)".to_string()
        }
        ("send", SockError::BrokenPipe) => "send() failed (32: Broken pipe)".to_string(),
        ("connect", SockError::Os(code)) => {
            let e = std::io::Error::from_raw_os_error(*code);
            format!(
                "connect() to {peer} failed ({code}: {})",
                crate::log::strerror(&e)
            )
        }
        _ => return,
    };
    super::log::emit(Level::Error, &msg);
}

/// A timeout argument: numbers as given, anything else counts as 0 (the default).
fn num_or_zero(v: &Value) -> i64 {
    match v {
        Value::Integer(i) => *i,
        Value::Number(n) => *n as i64,
        _ => 0,
    }
}

fn arg_str(v: Option<&Value>) -> Option<String> {
    match v {
        Some(Value::String(s)) => Some(s.to_string_lossy()),
        _ => None,
    }
}

fn arg_num(v: Option<&Value>) -> Option<i64> {
    match v {
        Some(Value::Integer(i)) => Some(*i),
        Some(Value::Number(n)) => Some(*n as i64),
        Some(Value::String(s)) => s.to_str().ok()?.parse().ok(),
        _ => None,
    }
}

fn connect(lua: &Lua, ud: AnyUserData, args: MultiValue) -> mlua::Result<MultiValue> {
    check_phase(YIELDABLE)?;
    let s = checked(lua, &ud)?;
    let Some(host) = arg_str(args.front()) else {
        return Err(super::lua_err(
            lua,
            2,
            "bad argument #1 to 'connect' (string expected)",
        ));
    };
    let unix = host.starts_with("unix:");
    let (port, opts_idx) = if unix {
        (None, 1)
    } else {
        (arg_num(args.get(1)), 2)
    };
    if !unix && port.is_none() {
        return Err(super::lua_err(
            lua,
            2,
            "bad argument #2 to 'connect' (number expected)",
        ));
    }
    let mut opts = PoolOptions::default();
    let mut key = None;
    if let Some(Value::Table(t)) = args.get(opts_idx) {
        key = t.get::<Option<String>>("pool")?;
        if let Some(n) = t.get::<Option<i64>>("pool_size")? {
            if n <= 0 {
                return Err(super::lua_err(
                    lua,
                    2,
                    format!("bad \"pool_size\" option value: {n}"),
                ));
            }
            opts.size = Some(n as usize);
        }
        if let Some(n) = t.get::<Option<i64>>("backlog")? {
            if n < 0 {
                return Err(super::lua_err(
                    lua,
                    2,
                    format!("bad \"backlog\" option value: {n}"),
                ));
            }
            opts.backlog = Some(n as usize);
        }
    }
    let key = key.unwrap_or_else(|| Target::default_pool_key(&host, port));
    // a connect that will wait in the pool's backlog logs its timeout differently
    let queued = pools()
        .stats(&key)
        .is_some_and(|st| st.backlog.is_some() && st.connections >= st.size);
    let sock = s.sock.clone();
    let conf = s.conf.clone();
    let peer = match port {
        Some(p) => format!("{host}:{p}"),
        None => host.clone(),
    };
    *s.peer.borrow_mut() = peer.clone();
    drop(s);
    yield_with(async move {
        let rconf = conf.resolver.clone();
        let rtimeout = conf.resolver_timeout;
        let h = host.clone();
        let resolve = move || async move {
            match Target::parse(&h, port) {
                Err(SockError::NoResolver(_)) => {
                    let ips = crate::net::dns::resolve(&h, rconf.as_deref(), rtimeout)
                        .await
                        .map_err(SockError::Resolve)?;
                    Ok(Target::Inet(SocketAddr::new(
                        ips[0],
                        port.unwrap_or(0) as u16,
                    )))
                }
                other => other,
            }
        };
        let res = sock.connect(&pools(), &key, opts, resolve).await;
        let r: Resumer = Box::new(move |lua| match res {
            Ok(()) => ok1(),
            Err(e) => {
                log_failure(&conf, if queued { "queue" } else { "connect" }, &e, &peer);
                nil_err(lua, &e.to_string())
            }
        });
        r
    })
}

fn send(lua: &Lua, ud: AnyUserData, data: Value) -> mlua::Result<MultiValue> {
    check_phase(YIELDABLE)?;
    let s = checked(lua, &ud)?;
    if !s.sock.is_connected() {
        super::log::emit(Level::Error, "attempt to send data on a closed socket");
        return nil_err(lua, "closed");
    }
    let mut buf = Vec::new();
    super::output::render_send(lua, &data, &mut buf, true)?;
    let sock = s.sock.clone();
    let conf = s.conf.clone();
    drop(s);
    yield_with(async move {
        let res = sock.send(&buf).await;
        let r: Resumer = Box::new(move |lua| match res {
            Ok(n) => {
                let mut mv = MultiValue::new();
                mv.push_back(Value::Integer(n as i64));
                Ok(mv)
            }
            Err(e) => {
                log_failure(&conf, "send", &e, "");
                nil_err(lua, &e.to_string())
            }
        });
        r
    })
}

/// Turn a receive result into `data` or `nil, err, partial`.
fn recv_values(
    lua: &Lua,
    conf: &SockConf,
    res: Result<Option<Bytes>, (SockError, Option<Bytes>)>,
) -> mlua::Result<MultiValue> {
    let mut mv = MultiValue::new();
    match res {
        Ok(Some(b)) => mv.push_back(Value::String(lua.create_string(&b)?)),
        Ok(None) => {
            // the end of a sized receiveuntil loop
            mv.push_back(Value::Nil);
            mv.push_back(Value::Nil);
            mv.push_back(Value::Nil);
        }
        Err((e, partial)) => {
            log_failure(conf, "read", &e, "");
            mv.push_back(Value::Nil);
            mv.push_back(Value::String(lua.create_string(e.to_string())?));
            if let Some(p) = partial {
                mv.push_back(Value::String(lua.create_string(&p)?));
            }
        }
    }
    Ok(mv)
}

/// The part every receive shares: refuse on a closed socket (logging it as
/// OpenResty does), else yield until `op` reads and turn its result into
/// `data` or `nil, err, partial`.
fn receive_with<F, Fut>(lua: &Lua, s: mlua::UserDataRef<Sock>, op: F) -> mlua::Result<MultiValue>
where
    F: FnOnce(Rc<TcpSock>) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<Option<Bytes>, ngx_cosocket::RecvError>> + 'static,
{
    if !s.sock.is_connected() {
        super::log::emit(Level::Error, "attempt to receive data on a closed socket");
        return nil_err(lua, "closed");
    }
    let sock = s.sock.clone();
    let conf = s.conf.clone();
    drop(s);
    yield_with(async move {
        let res = op(sock).await;
        let r: Resumer = Box::new(move |lua| recv_values(lua, &conf, res));
        r
    })
}

enum Pattern {
    Line,
    All,
    Bytes(usize),
}

fn receive(lua: &Lua, ud: AnyUserData, pat: Value) -> mlua::Result<MultiValue> {
    check_phase(YIELDABLE)?;
    let s = checked(lua, &ud)?;
    let pattern = match &pat {
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
    receive_with(lua, s, move |sock| async move {
        match pattern {
            Pattern::Line => sock.receive_line().await.map(Some),
            Pattern::All => sock.receive_all().await.map(Some),
            Pattern::Bytes(n) => sock.receive_bytes(n).await.map(Some),
        }
    })
}

fn receiveany(lua: &Lua, ud: AnyUserData, max: Value) -> mlua::Result<MultiValue> {
    check_phase(YIELDABLE)?;
    let s = checked(lua, &ud)?;
    let max = match max {
        Value::Integer(n) if n > 0 => n as usize,
        Value::Number(n) if n >= 1.0 => n as usize,
        _ => {
            return Err(super::lua_err(
                lua,
                2,
                "bad argument #2 to 'receiveany' (bad max argument)",
            ))
        }
    };
    receive_with(lua, s, move |sock| async move {
        sock.receive_any(max).await.map(Some)
    })
}

fn receive_until(
    lua: &Lua,
    ud: AnyUserData,
    it: AnyUserData,
    size: Option<f64>,
) -> mlua::Result<MultiValue> {
    check_phase(YIELDABLE)?;
    let s = checked(lua, &ud)?;
    let it = it.borrow::<Until>()?.0.clone();
    let size = size.map(|n| n.max(0.0) as usize).unwrap_or(0);
    receive_with(lua, s, move |sock| async move {
        sock.receive_until(&it, size).await
    })
}

fn tls_context(conf: &SockConf) -> Result<TlsContext, String> {
    TLS.with(|t| {
        let key = (conf.trusted.clone(), conf.verify_depth);
        if let Some(c) = t.borrow().get(&key) {
            return Ok(c.clone());
        }
        let opts = TlsOptions {
            trusted_certificates: conf.trusted.clone(),
            verify_depth: conf.verify_depth,
            webpki_roots: false,
        };
        let c = TlsContext::new(&opts).map_err(|e| e.to_string())?;
        t.borrow_mut().insert(key, c.clone());
        Ok(c)
    })
}

fn sslhandshake(lua: &Lua, ud: AnyUserData, args: MultiValue) -> mlua::Result<MultiValue> {
    check_phase(YIELDABLE)?;
    let s = checked(lua, &ud)?;
    let name = arg_str(args.get(1));
    let verify = matches!(args.get(2), Some(Value::Boolean(true)));
    let ctx = match tls_context(&s.conf) {
        Ok(c) => c,
        Err(e) => return nil_err(lua, &e),
    };
    let sock = s.sock.clone();
    drop(s);
    yield_with(async move {
        let res = sock.ssl_handshake(&ctx, name.as_deref(), verify).await;
        let r: Resumer = Box::new(move |lua| match res {
            // no session object: rustls resumes sessions itself
            Ok(()) => {
                let mut mv = MultiValue::new();
                mv.push_back(Value::Boolean(true));
                Ok(mv)
            }
            Err(e) => nil_err(lua, &e.to_string()),
        });
        r
    })
}

pub fn register(lua: &Lua, c: &Table) -> mlua::Result<()> {
    c.set(
        "tcp_new",
        lua.create_function(|lua, ()| {
            check_phase(YIELDABLE)?;
            let conf = sock_conf();
            let owner = driver::with_current(|r| r.map(|r| r.id).unwrap_or(0));
            let sock = Rc::new(TcpSock::new(conf.timeouts));
            if let Some((task, _)) = driver::current_task() {
                task.own_socket(&sock);
            }
            let s = Sock {
                sock,
                owner,
                conf,
                peer: RefCell::new(String::new()),
            };
            lua.create_userdata(s)
        })?,
    )?;
    Ok(())
}
