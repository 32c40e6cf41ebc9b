//! One worker = one OS thread running a current-thread tokio runtime, a
//! LocalSet and one LuaJIT VM. Nothing here is shared with other workers
//! except the config snapshot and the listening sockets.

mod conn;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::watch;

use crate::config::{Config, ErrorLogConf, Server};
use crate::log::{self, Level, Sink};
use crate::lua::{driver, Vm};
use crate::request::Phase;

/// What the main thread asks of its workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    Run,
    /// Stop accepting, finish in-flight requests, close idle connections, exit.
    Quit,
    /// Exit now.
    Stop,
}

/// nginx numbers connections process-wide (`*N` in the error log).
static CONN_COUNTER: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static ID: Cell<usize> = const { Cell::new(0) };
    static COUNT: Cell<usize> = const { Cell::new(1) };
    static EXITING: Cell<bool> = const { Cell::new(false) };
    static PHASE: Cell<Phase> = const { Cell::new(Phase::Init) };
    static PREFIX: RefCell<String> = const { RefCell::new(String::new()) };
    static WORKER: RefCell<Option<Rc<Worker>>> = const { RefCell::new(None) };
    static SINKS: RefCell<HashMap<std::path::PathBuf, Arc<Sink>>> = RefCell::new(HashMap::new());
}

/// Run `f` with this worker's VM (API functions implemented in C need it).
pub fn with_vm<R>(f: impl FnOnce(&Vm) -> R) -> Option<R> {
    WORKER.with(|w| w.borrow().as_ref().map(|w| f(&w.vm)))
}

/// This thread's worker (for API functions that start background work).
pub fn current() -> Option<Rc<Worker>> {
    WORKER.with(|w| w.borrow().clone())
}

pub fn id() -> usize {
    ID.with(|c| c.get())
}
pub fn count() -> usize {
    COUNT.with(|c| c.get())
}
pub fn exiting() -> bool {
    EXITING.with(|c| c.get())
}
pub fn phase() -> Phase {
    PHASE.with(|c| c.get())
}
pub fn set_phase(p: Phase) {
    PHASE.with(|c| c.set(p))
}
pub fn prefix() -> String {
    PREFIX.with(|p| p.borrow().clone())
}
pub fn set_prefix(p: &std::path::Path) {
    let mut s = p.to_string_lossy().into_owned();
    if !s.ends_with('/') {
        s.push('/');
    }
    PREFIX.with(|x| *x.borrow_mut() = s);
}

pub fn hostname() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| {
        let mut buf = [0u8; 256];
        // SAFETY: gethostname writes at most buf.len() bytes into buf.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr() as *mut libc::c_char, buf.len()) };
        if rc != 0 {
            return "localhost".into();
        }
        let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
        String::from_utf8_lossy(&buf[..end]).into_owned()
    })
}

/// The sink for a location-level `error_log`, opened once per worker.
pub fn sink_for(c: &ErrorLogConf) -> Option<Arc<Sink>> {
    SINKS.with(|s| {
        if let Some(x) = s.borrow().get(&c.path) {
            return Some(x.clone());
        }
        let sink = shared_sink(c)?;
        s.borrow_mut().insert(c.path.clone(), sink.clone());
        Some(sink)
    })
}

/// Sinks shared across workers, so each file is opened once per process.
fn shared_sink(c: &ErrorLogConf) -> Option<Arc<Sink>> {
    static ALL: Mutex<Vec<Arc<Sink>>> = Mutex::new(Vec::new());
    let mut all = ALL.lock().ok()?;
    if let Some(s) = all.iter().find(|s| s.same(&c.path, c.level)) {
        return Some(s.clone());
    }
    let s = log::open(&c.path, c.level).ok()?;
    log::track(&s);
    all.push(s.clone());
    Some(s)
}

/// The open file behind an `access_log` path (one per process).
pub fn access_sink(path: &std::path::Path) -> Arc<Sink> {
    let c = ErrorLogConf {
        path: path.to_path_buf(),
        level: Level::Debug,
    };
    match sink_for(&c) {
        Some(s) => s,
        None => {
            // unopenable: fall back to a sink that drops lines (nginx failed at startup instead)
            log::open(std::path::Path::new("/dev/null"), Level::Debug).expect("/dev/null opens")
        }
    }
}

/// A connection task and whether it is waiting for a request.
type ConnHandle = (tokio::task::AbortHandle, Rc<Cell<bool>>);

/// A listening socket handed to a worker, and the servers reachable through it.
pub struct ListenerSpec {
    pub listener: std::net::TcpListener,
    pub servers: Arc<Vec<Arc<Server>>>,
}

pub struct Worker {
    pub vm: Vm,
    pub cfg: Arc<Config>,
    active: Cell<usize>,
    idle: tokio::sync::Notify,
    next_req: Cell<u64>,
    pub cmd: watch::Receiver<Cmd>,
    /// Open connections: abort handle and "waiting for a request" flag, so a
    /// graceful quit can close idle keep-alive connections without polling a
    /// shutdown signal on every request.
    conns: RefCell<HashMap<u64, ConnHandle>>,
}

impl Worker {
    pub fn next_request_id(&self) -> u64 {
        let id = self.next_req.get();
        self.next_req.set(id + 1);
        id
    }
}

/// Drops the thread's worker reference when the worker's run future ends.
struct ClearWorker;

impl Drop for ClearWorker {
    fn drop(&mut self) {
        WORKER.with(|x| x.borrow_mut().take());
    }
}

/// Counts a live connection; the worker exits gracefully when none remain.
pub(crate) struct Active(Rc<Worker>, u64);

impl Active {
    pub(crate) fn new(w: &Rc<Worker>, number: u64) -> Active {
        w.active.set(w.active.get() + 1);
        Active(w.clone(), number)
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.conns.borrow_mut().remove(&self.1);
        let n = self.0.active.get() - 1;
        self.0.active.set(n);
        if n == 0 {
            self.0.idle.notify_waiters();
        }
    }
}

/// Start worker `id` of `count` on its own thread.
pub fn spawn(
    id: usize,
    count: usize,
    cfg: Arc<Config>,
    listeners: Vec<ListenerSpec>,
    cmd: watch::Receiver<Cmd>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("worker-{id}"))
        .spawn(move || {
            ID.with(|c| c.set(id));
            COUNT.with(|c| c.set(count));
            set_prefix(&cfg.prefix);
            if let Err(e) = run(cfg, listeners, cmd) {
                log::log(Level::Emerg, &e);
            }
        })
}

fn run(
    cfg: Arc<Config>,
    listeners: Vec<ListenerSpec>,
    cmd: watch::Receiver<Cmd>,
) -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async move {
        let http = cfg.http.as_ref();
        let vm = Vm::new(
            http.and_then(|h| h.lua.package_path.as_deref()),
            http.and_then(|h| h.lua.package_cpath.as_deref()),
        )
        .map_err(|e| format!("failed to initialize Lua VM: {e}"))?;
        // init_by_lua: its globals and modules become every request's read-only base
        if let Some(c) = http.and_then(|h| h.lua.init.clone()) {
            set_phase(Phase::Init);
            vm.run_plain(&c)
                .map_err(|e| format!("init_by_lua error: {}", driver::format_error(&e)))?;
        }
        set_phase(Phase::Content);
        let w = Rc::new(Worker {
            vm,
            cfg: cfg.clone(),
            active: Cell::new(0),
            idle: tokio::sync::Notify::new(),
            next_req: Cell::new(1),
            cmd: cmd.clone(),
            conns: RefCell::new(HashMap::new()),
        });
        WORKER.with(|x| *x.borrow_mut() = Some(w.clone()));
        let _clear = ClearWorker;
        if let Some(c) = http.and_then(|h| h.lua.init_worker.clone()) {
            let w2 = w.clone();
            tokio::task::spawn_local(
                async move { run_worker_chunk(&w2, &c, Phase::InitWorker).await },
            );
            // let it run up to its first wait before the first request
            tokio::task::yield_now().await;
        }
        for spec in listeners {
            spec.listener
                .set_nonblocking(true)
                .map_err(|e| e.to_string())?;
            let l = tokio::net::TcpListener::from_std(spec.listener).map_err(|e| e.to_string())?;
            tokio::task::spawn_local(accept_loop(w.clone(), l, spec.servers));
        }
        let mut rx = cmd;
        while *rx.borrow_and_update() == Cmd::Run {
            if rx.changed().await.is_err() {
                break;
            }
        }
        EXITING.with(|e| e.set(true));
        let idle: Vec<_> = w
            .conns
            .borrow()
            .values()
            .filter(|(_, idle)| idle.get())
            .map(|(h, _)| h.clone())
            .collect();
        for h in idle {
            h.abort();
        }
        if *rx.borrow() == Cmd::Quit {
            // let idle keep-alive connections notice and close, then wait for the busy ones
            while w.active.get() > 0 {
                tokio::select! {
                    _ = w.idle.notified() => {}
                    r = rx.changed() => {
                        if r.is_err() || *rx.borrow() == Cmd::Stop {
                            break;
                        }
                    }
                }
            }
        }
        if let Some(c) = http.and_then(|h| h.lua.exit_worker.clone()) {
            let run = run_worker_chunk(&w, &c, Phase::ExitWorker);
            if tokio::time::timeout(std::time::Duration::from_secs(10), run)
                .await
                .is_err()
            {
                log::log(Level::Error, "exit_worker_by_lua did not finish within 10s");
            }
        }
        Ok::<(), String>(())
    })
}

/// init_worker_by_lua / exit_worker_by_lua: a task in the worker's global
/// environment, outside any request.
async fn run_worker_chunk(w: &Rc<Worker>, c: &Arc<crate::config::LuaChunk>, phase: Phase) {
    let what = match phase {
        Phase::InitWorker => "init_worker_by_lua",
        _ => "exit_worker_by_lua",
    };
    match w.vm.prepare(c, crate::config::Globals::Shared, None) {
        Ok((key, isolated)) => {
            if let driver::Outcome::Error(msg) =
                driver::run_phase(&w.vm, None, key, isolated, phase).await
            {
                log::log(Level::Error, &format!("{what} error: {msg}"));
            }
        }
        Err(crate::lua::LoadError::NotFound(m) | crate::lua::LoadError::Other(m)) => {
            log::log(Level::Error, &format!("{what} error: {m}"))
        }
    }
}

async fn accept_loop(w: Rc<Worker>, l: tokio::net::TcpListener, servers: Arc<Vec<Arc<Server>>>) {
    let mut rx = w.cmd.clone();
    loop {
        tokio::select! {
            r = l.accept() => match r {
                Ok((stream, peer)) => {
                    let local = stream.local_addr().unwrap_or(peer);
                    let number = CONN_COUNTER.fetch_add(1, Ordering::Relaxed);
                    let guard = Active::new(&w, number);
                    let idle = Rc::new(Cell::new(false));
                    let h = tokio::task::spawn_local(conn::serve(guard.0.clone(), conn::Accepted { stream, peer, local, number }, servers.clone(), idle.clone(), guard));
                    w.conns.borrow_mut().insert(number, (h.abort_handle(), idle));
                }
                Err(e) => {
                    log::log(Level::Alert, &format!("accept() failed ({}: {})", e.raw_os_error().unwrap_or(0), log::strerror(&e)));
                    // EMFILE and friends: back off instead of spinning
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            },
            r = rx.changed() => {
                if r.is_err() || *rx.borrow() != Cmd::Run {
                    return;
                }
            }
        }
    }
}
