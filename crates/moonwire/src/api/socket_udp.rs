//! ngx.socket.udp (ngx_http_lua_socket_udp.c): setpeername, send, receive,
//! bind, settimeout, close. Waits (name resolution, receive) yield the
//! calling coroutine.

use std::cell::{Cell, RefCell};
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use mlua::{AnyUserData, Lua, MultiValue, Table, UserData, UserDataMethods, Value};

use super::{check_phase, nil_err, ok1, yield_with, YIELDABLE};
use crate::lua::driver::{self, Resumer};

enum Sock {
    Udp(tokio::net::UdpSocket),
    Unix(tokio::net::UnixDatagram),
}

#[derive(Default)]
struct Udp {
    sock: RefCell<Option<Rc<Sock>>>,
    /// Read timeout in ms (0: none), from settimeout or lua_socket_read_timeout.
    timeout_ms: Cell<u64>,
    bind: Cell<Option<IpAddr>>,
    /// The request that created the socket (0: a timer or init_worker).
    owner: u64,
}

impl UserData for Udp {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_function(
            "setpeername",
            |lua, (ud, args): (AnyUserData, MultiValue)| setpeername(lua, ud, args),
        );
        methods.add_function("send", |lua, (ud, data): (AnyUserData, Value)| {
            send(lua, ud, data)
        });
        methods.add_function("receive", |lua, (ud, size): (AnyUserData, Option<i64>)| {
            receive(lua, ud, size)
        });
        methods.add_function("settimeout", |_, (ud, ms): (AnyUserData, Option<f64>)| {
            udp(&ud)?.timeout_ms.set(ms.unwrap_or(0.0).max(0.0) as u64);
            Ok(())
        });
        methods.add_function("bind", |lua, (ud, addr): (AnyUserData, String)| match addr
            .parse::<IpAddr>()
        {
            Ok(ip) => {
                udp(&ud)?.bind.set(Some(ip));
                ok1()
            }
            Err(_) => nil_err(lua, "bad address"),
        });
        methods.add_function("close", |lua, ud: AnyUserData| {
            let u = udp(&ud)?;
            if u.sock.borrow_mut().take().is_none() {
                return nil_err(lua, "closed");
            }
            ok1()
        });
    }
}

/// Cosocket objects belong to the request that made them.
pub fn owner_ok(owner: u64) -> bool {
    driver::with_current(|r| r.map(|r| r.id).unwrap_or(0)) == owner
}

fn udp(ud: &AnyUserData) -> mlua::Result<mlua::UserDataRef<Udp>> {
    ud.borrow::<Udp>()
}

/// The resolver settings of the running request's location.
fn resolver() -> (
    Option<std::sync::Arc<crate::net::dns::ResolverConf>>,
    Duration,
) {
    driver::with_current(|r| match r {
        Some(r) => (
            r.loc.resolver.clone(),
            Duration::from_millis(r.loc.resolver_timeout_ms),
        ),
        None => (None, Duration::from_secs(30)),
    })
}

fn setpeername(lua: &Lua, ud: AnyUserData, args: MultiValue) -> mlua::Result<MultiValue> {
    check_phase(YIELDABLE)?;
    let u = udp(&ud)?;
    if !owner_ok(u.owner) {
        return Err(super::lua_err(lua, 2, "bad request"));
    }
    let host = match args.front() {
        Some(Value::String(s)) => s.to_string_lossy(),
        _ => {
            return Err(super::lua_err(
                lua,
                2,
                "bad argument #1 to 'setpeername' (string expected)",
            ))
        }
    };
    u.sock.borrow_mut().take();
    if let Some(path) = host.strip_prefix("unix:") {
        let s = tokio::net::UnixDatagram::unbound().and_then(|s| {
            s.connect(path)?;
            Ok(s)
        });
        return match s {
            Ok(s) => {
                *u.sock.borrow_mut() = Some(Rc::new(Sock::Unix(s)));
                ok1()
            }
            Err(e) => nil_err(lua, &crate::log::strerror(&e).to_lowercase()),
        };
    }
    let port = match args.get(1) {
        Some(Value::Integer(p)) => *p,
        Some(Value::Number(p)) => *p as i64,
        _ => {
            return Err(super::lua_err(
                lua,
                2,
                "bad argument #2 to 'setpeername' (number expected)",
            ))
        }
    };
    if !(0..=65535).contains(&port) {
        return nil_err(lua, &format!("bad port number: {port}"));
    }
    let bind = u.bind.get();
    let (rconf, rtimeout) = resolver();
    drop(u);
    yield_with(async move {
        let res: Result<Sock, String> = async {
            let ips = crate::net::dns::resolve(&host, rconf.as_deref(), rtimeout).await?;
            let peer = SocketAddr::new(ips[0], port as u16);
            let local: SocketAddr = match bind {
                Some(ip) => SocketAddr::new(ip, 0),
                None if peer.is_ipv4() => "0.0.0.0:0".parse().expect("literal"),
                None => "[::]:0".parse().expect("literal"),
            };
            let s = tokio::net::UdpSocket::bind(local)
                .await
                .map_err(|e| crate::log::strerror(&e).to_lowercase())?;
            s.connect(peer)
                .await
                .map_err(|e| crate::log::strerror(&e).to_lowercase())?;
            Ok(Sock::Udp(s))
        }
        .await;
        let r: Resumer = Box::new(move |lua| match res {
            Ok(s) => {
                *udp(&ud)?.sock.borrow_mut() = Some(Rc::new(s));
                ok1()
            }
            Err(e) => nil_err(lua, &e),
        });
        r
    })
}

fn send(lua: &Lua, ud: AnyUserData, data: Value) -> mlua::Result<MultiValue> {
    let u = udp(&ud)?;
    if !owner_ok(u.owner) {
        return Err(super::lua_err(lua, 2, "bad request"));
    }
    let Some(s) = u.sock.borrow().clone() else {
        crate::api::log::emit(
            crate::log::Level::Error,
            "attempt to send data on a closed socket",
        );
        return nil_err(lua, "closed");
    };
    let mut buf = Vec::new();
    super::output::render_send(lua, &data, &mut buf, true)?;
    drop(u);
    // UDP sends complete at once; awaiting keeps tokio's readiness bookkeeping right
    yield_with(async move {
        let r = match &*s {
            Sock::Udp(x) => x.send(&buf).await,
            Sock::Unix(x) => x.send(&buf).await,
        };
        let r: Resumer = Box::new(move |lua| match r {
            Ok(_) => ok1(),
            Err(e) => nil_err(lua, &crate::log::strerror(&e).to_lowercase()),
        });
        r
    })
}

fn receive(lua: &Lua, ud: AnyUserData, size: Option<i64>) -> mlua::Result<MultiValue> {
    check_phase(YIELDABLE)?;
    let u = udp(&ud)?;
    if !owner_ok(u.owner) {
        return Err(super::lua_err(lua, 2, "bad request"));
    }
    let Some(s) = u.sock.borrow().clone() else {
        crate::api::log::emit(
            crate::log::Level::Error,
            "attempt to receive data on a closed socket",
        );
        return nil_err(lua, "closed");
    };
    let size = size.unwrap_or(65536).clamp(1, 65536) as usize;
    let timeout = u.timeout_ms.get();
    drop(u);
    yield_with(async move {
        let mut buf = vec![0u8; size];
        let fut = async {
            match &*s {
                Sock::Udp(x) => x.recv(&mut buf).await,
                Sock::Unix(x) => x.recv(&mut buf).await,
            }
        };
        let res = if timeout > 0 {
            tokio::time::timeout(Duration::from_millis(timeout), fut)
                .await
                .map_err(|_| "timeout".to_string())
        } else {
            Ok(fut.await)
        };
        let r: Resumer = Box::new(move |lua| match res {
            Ok(Ok(n)) => {
                let mut mv = MultiValue::new();
                mv.push_back(Value::String(lua.create_string(&buf[..n])?));
                Ok(mv)
            }
            Ok(Err(e)) => {
                crate::api::log::emit(
                    crate::log::Level::Error,
                    &format!(
                        "recv() failed ({}: {})",
                        e.raw_os_error().unwrap_or(0),
                        crate::log::strerror(&e)
                    ),
                );
                nil_err(lua, &crate::log::strerror(&e).to_lowercase())
            }
            Err(t) => {
                if crate::worker::with_vm(|_| ()).is_some() {
                    crate::api::log::emit(
                        crate::log::Level::Error,
                        "lua udp socket read timed out",
                    );
                }
                nil_err(lua, &t)
            }
        });
        r
    })
}

pub fn register(lua: &Lua, c: &Table) -> mlua::Result<()> {
    c.set(
        "udp_new",
        lua.create_function(|lua, ()| {
            check_phase(YIELDABLE)?;
            let owner = driver::with_current(|r| r.map(|r| r.id).unwrap_or(0));
            let timeout =
                driver::with_current(|r| r.map(|r| r.loc.socket_read_timeout_ms).unwrap_or(60_000));
            let u = Udp {
                owner,
                ..Default::default()
            };
            u.timeout_ms.set(timeout);
            lua.create_userdata(u)
        })?,
    )?;
    Ok(())
}
