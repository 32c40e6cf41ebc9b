//! The life of one request: location lookup, `return`, static files, the Lua
//! content handler, and the response that goes back on the wire. This is the
//! one place where the HTTP side and the Lua side meet.

pub mod body;
pub mod filter;
pub(crate) mod handle;
pub mod output;
pub mod phases;
pub mod static_file;
pub mod subreq;
pub mod vars;

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use tokio::net::TcpStream;

use crate::config::{LocConf, Server};
use crate::http::RequestHead;
use crate::log::{self, Level};

pub use handle::{handle, listens_on, log_conn, reject};
pub use output::Resp;

/// The connection a request arrived on.
#[derive(Debug)]
pub struct ConnInfo {
    /// nginx's connection number (`*N` in log lines, `$connection`).
    pub number: u64,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub stream: Rc<TcpStream>,
    /// Requests served on this connection so far, including the current one.
    pub requests: Cell<u64>,
}

/// Which handler phase is running (for `ngx.get_phase()` and API checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Init,
    InitWorker,
    ExitWorker,
    Set,
    ServerRewrite,
    Rewrite,
    Access,
    Precontent,
    Content,
    HeaderFilter,
    BodyFilter,
    Log,
    Timer,
}

impl Phase {
    /// What `ngx.get_phase()` returns.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Init => "init",
            Phase::InitWorker => "init_worker",
            Phase::ExitWorker => "exit_worker",
            Phase::Set => "set",
            Phase::ServerRewrite => "server_rewrite",
            Phase::Rewrite => "rewrite",
            Phase::Access => "access",
            Phase::Precontent => "precontent",
            Phase::Content => "content",
            Phase::HeaderFilter => "header_filter",
            Phase::BodyFilter => "body_filter",
            Phase::Log => "log",
            Phase::Timer => "timer",
        }
    }

    /// How OpenResty names the context in "API disabled in the context of ...".
    pub fn context_name(self) -> &'static str {
        match self {
            Phase::Init => "init_by_lua*",
            Phase::InitWorker => "init_worker_by_lua*",
            Phase::ExitWorker => "exit_worker_by_lua*",
            Phase::Set => "set_by_lua*",
            Phase::ServerRewrite => "server_rewrite_by_lua*",
            Phase::Rewrite => "rewrite_by_lua*",
            Phase::Access => "access_by_lua*",
            Phase::Precontent => "precontent_by_lua*",
            Phase::Content => "content_by_lua*",
            Phase::HeaderFilter => "header_filter_by_lua*",
            Phase::BodyFilter => "body_filter_by_lua*",
            Phase::Log => "log_by_lua*",
            Phase::Timer => "ngx.timer",
        }
    }
}

/// One HTTP request. Shared (`Rc`) between the connection task and the Lua
/// API functions that run while its coroutine is current.
#[derive(Debug)]
pub struct Req {
    /// Per-worker unique id: keys the request's Lua-side state (`ngx.ctx`).
    pub id: u64,
    pub conn: Rc<ConnInfo>,
    pub head: RequestHead,
    /// `$uri`: decoded, normalized path.
    pub uri: RefCell<Bytes>,
    /// `$args`: the query string (without `?`).
    pub args: RefCell<Option<Bytes>>,
    pub server: Arc<Server>,
    pub loc: Arc<LocConf>,
    /// Captures of the matched regex location (`$1`, `ngx.var[1]`); 0 is the whole match.
    pub captures: Vec<Option<Bytes>>,
    /// The matched prefix, for `alias`.
    pub alias_prefix: Option<Box<str>>,
    pub body: RefCell<body::Body>,
    /// `ngx.req.set_method`.
    pub method_override: Cell<Option<&'static str>>,
    /// Request headers once Lua changed them (`ngx.req.set_header` ...);
    /// `None`: as parsed in `head`.
    pub headers_in: RefCell<Option<Vec<(Bytes, Bytes)>>>,
    /// `ngx.req.start_time()`, seconds with millisecond precision.
    pub start: f64,
    pub start_instant: std::time::Instant,
    pub resp: RefCell<Resp>,
    pub phase: Cell<Phase>,
    /// `ngx.ctx` was touched: its Lua table must be dropped at the end.
    pub ctx_used: Cell<bool>,
    /// Context string appended to error-log lines (", client: ..., request: ...").
    log_ctx: RefCell<Option<String>>,
    /// Variables declared by `set` / `set_by_lua` and their values.
    pub user_vars: RefCell<Vec<(Box<str>, Bytes)>>,
    /// `ngx.exec` target, taken by the phase runner when the handler ends.
    pub exec: RefCell<Option<ExecTarget>>,
    /// `ngx.req.set_uri(uri, true)` in rewrite: find the location again.
    pub jump: Cell<bool>,
    /// Reached through an internal redirect (`internal;` locations allow it).
    pub internal: Cell<bool>,
    /// Internal redirects so far (nginx stops at 10).
    pub redirects: Cell<u8>,
    /// `ngx.arg`: set_by_lua's arguments, or the body filter's chunk and eof flag.
    pub lua_arg: RefCell<LuaArg>,
    /// header_filter_by_lua ran (it runs once, before the head goes out).
    pub header_filtered: Cell<bool>,
    /// The body filter saw (or set) eof: later output is dropped.
    pub body_filter_eof: Cell<bool>,
    /// A subrequest (ngx.location.capture): output is captured, not sent.
    pub subrequest: bool,
    /// Registry reference of the request's own global environment (0: none yet).
    pub env_ref: Cell<std::ffi::c_int>,
}

impl Drop for Req {
    fn drop(&mut self) {
        let r = self.env_ref.get();
        if r != 0 {
            crate::worker::with_vm(|vm| vm.unref(r));
        }
    }
}

/// Where `ngx.exec` sends the request.
#[derive(Debug, Clone)]
pub struct ExecTarget {
    pub uri: Bytes,
    pub args: Option<Bytes>,
}

#[derive(Debug, Default)]
pub enum LuaArg {
    #[default]
    None,
    Set(Vec<Vec<u8>>),
    Body {
        data: Vec<u8>,
        eof: bool,
    },
}

/// Where a request was routed: virtual server, location settings, alias prefix.
pub struct Route {
    pub server: Arc<Server>,
    pub loc: Arc<LocConf>,
    pub alias_prefix: Option<Box<str>>,
}

impl Req {
    pub fn new(
        id: u64,
        conn: Rc<ConnInfo>,
        head: RequestHead,
        uri: Bytes,
        args: Option<Bytes>,
        route: Route,
    ) -> Req {
        let Route {
            server,
            loc,
            alias_prefix,
        } = route;
        let keepalive = head.keepalive;
        let body = body::Body::new(head.content_length, head.chunked, loc.client_max_body_size);
        Req {
            id,
            conn,
            head,
            uri: RefCell::new(uri),
            args: RefCell::new(args),
            server,
            loc,
            alias_prefix,
            captures: Vec::new(),
            body: RefCell::new(body),
            method_override: Cell::new(None),
            headers_in: RefCell::new(None),
            start: ngx_util::now(),
            start_instant: std::time::Instant::now(),
            resp: RefCell::new(Resp::new(keepalive)),
            phase: Cell::new(Phase::Content),
            ctx_used: Cell::new(false),
            log_ctx: RefCell::new(None),
            user_vars: RefCell::new(Vec::new()),
            exec: RefCell::new(None),
            jump: Cell::new(false),
            internal: Cell::new(false),
            redirects: Cell::new(0),
            lua_arg: RefCell::new(LuaArg::None),
            header_filtered: Cell::new(false),
            body_filter_eof: Cell::new(false),
            subrequest: false,
            env_ref: Cell::new(0),
        }
    }

    /// The request body read so far, if any (what subrequests forward).
    pub fn body_bytes(&self) -> Option<Bytes> {
        self.body.borrow().mem().cloned()
    }

    /// A subrequest's body: already read, nothing on the wire.
    pub fn set_body_bytes(&mut self, b: Option<Bytes>) {
        *self.body.get_mut() = body::Body::read(b);
    }

    /// The same client request sent to another location (ngx.exec, or a
    /// rewrite-phase URI change): the response so far, body and variables
    /// carry over; `ngx.ctx` does not.
    pub fn redirect(&self, id: u64, uri: Bytes, args: Option<Bytes>, route: Route) -> Req {
        let mut r = Req::new(id, self.conn.clone(), self.head.clone(), uri, args, route);
        // the body (and with it the connection's input) moves along, as do
        // Lua's changes to the request headers and method
        r.body = RefCell::new(std::mem::replace(
            &mut *self.body.borrow_mut(),
            body::Body::read(None),
        ));
        r.headers_in = RefCell::new(self.headers_in.borrow_mut().take());
        r.method_override = Cell::new(self.method_override.get());
        r.resp = RefCell::new(std::mem::take(&mut *self.resp.borrow_mut()));
        r.user_vars = RefCell::new(std::mem::take(&mut *self.user_vars.borrow_mut()));
        r.start = self.start;
        r.start_instant = self.start_instant;
        r.internal.set(true);
        r.redirects.set(self.redirects.get() + 1);
        r.subrequest = self.subrequest;
        r
    }

    pub fn is_head(&self) -> bool {
        self.method() == b"HEAD"
    }

    /// `$request_method`: as sent, or as `ngx.req.set_method` changed it.
    pub fn method(&self) -> &[u8] {
        match self.method_override.get() {
            Some(m) => m.as_bytes(),
            None => self.head.method(),
        }
    }

    /// Visit the request headers (with Lua's changes) in order until `f`
    /// returns false.
    pub fn for_each_header(&self, mut f: impl FnMut(&[u8], &[u8]) -> bool) {
        match &*self.headers_in.borrow() {
            None => {
                for (n, v) in self.head.headers() {
                    if !f(n, v) {
                        return;
                    }
                }
            }
            Some(list) => {
                for (n, v) in list {
                    if !f(n, v) {
                        return;
                    }
                }
            }
        }
    }

    /// The first request header named `name` (any case).
    pub fn header_in(&self, name: &[u8]) -> Option<Vec<u8>> {
        let mut out = None;
        self.for_each_header(|n, v| {
            if n.eq_ignore_ascii_case(name) {
                out = Some(v.to_vec());
                return false;
            }
            true
        });
        out
    }

    pub fn header_count(&self) -> usize {
        match &*self.headers_in.borrow() {
            None => self.head.header_count(),
            Some(l) => l.len(),
        }
    }

    /// `, client: 127.0.0.1, server: localhost, request: "GET /t HTTP/1.1", host: "localhost"`
    pub fn log_ctx(&self) -> String {
        if let Some(s) = self.log_ctx.borrow().as_ref() {
            return s.clone();
        }
        let mut s = format!(
            ", client: {}, server: {}, request: \"{}\"",
            self.conn.peer.ip(),
            self.server.name,
            String::from_utf8_lossy(self.head.request_line())
        );
        if let Some(h) = self.head.host() {
            s.push_str(", host: \"");
            s.push_str(&String::from_utf8_lossy(h));
            s.push('"');
        }
        *self.log_ctx.borrow_mut() = Some(s.clone());
        s
    }

    pub fn error_sink(&self) -> Option<Arc<log::Sink>> {
        self.loc
            .error_log
            .as_ref()
            .and_then(|c| crate::worker::sink_for(c))
    }

    /// Write an error-log line in this request's context.
    pub fn log(&self, level: Level, msg: &str) {
        let sink = self.error_sink();
        let enabled = match &sink {
            Some(s) => s.enabled(level),
            None => log::enabled(level),
        };
        if enabled {
            log::log_to(
                sink.as_ref(),
                level,
                Some(self.conn.number),
                msg,
                &self.log_ctx(),
            );
        }
    }
}

/// One `access_log` line for a finished request.
pub fn access_log(req: &Req) {
    let Some(conf) = &req.loc.access_log else {
        return;
    };
    let mut line = Vec::with_capacity(256);
    vars::eval_log(req, &conf.format, &mut line);
    line.push(b'\n');
    crate::worker::access_sink(&conf.path).write_raw(&line);
}
