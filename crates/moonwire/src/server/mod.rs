//! Process bootstrap and control: listening sockets, worker threads,
//! signals (HUP reload, QUIT drain, TERM/INT stop, USR1 reopen), pid file.
//!
//! The main thread keeps every listening socket; workers get duplicates. A
//! reload hands the same sockets to the new workers before the old ones stop
//! accepting, so no connection waiting in a backlog is lost.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::watch;

use crate::config::{self, Config, LoadOpts, Server};
use crate::log::{self, Level};
use crate::worker::{self, Cmd, ListenerSpec};

/// Bound sockets by (address as configured, worker index).
struct Listeners {
    socks: HashMap<(SocketAddr, usize), std::net::TcpListener>,
    /// `listen ...:0` resolved to the port the kernel chose.
    resolved: HashMap<SocketAddr, SocketAddr>,
}

fn bind_one(addr: SocketAddr, backlog: i32) -> Result<std::net::TcpListener, String> {
    use socket2::{Domain, Socket, Type};
    let fail = |e: std::io::Error| {
        format!(
            "bind() to {} failed ({}: {})",
            addr,
            e.raw_os_error().unwrap_or(0),
            log::strerror(&e)
        )
    };
    let s = Socket::new(Domain::for_address(addr), Type::STREAM, None).map_err(fail)?;
    s.set_reuse_address(true).map_err(fail)?;
    s.set_reuse_port(true).map_err(fail)?;
    if addr.is_ipv6() {
        s.set_only_v6(true).map_err(fail)?;
    }
    s.bind(&addr.into()).map_err(fail)?;
    s.listen(backlog).map_err(|e| {
        format!(
            "listen() to {} failed ({}: {})",
            addr,
            e.raw_os_error().unwrap_or(0),
            log::strerror(&e)
        )
    })?;
    s.set_nonblocking(true).map_err(fail)?;
    Ok(s.into())
}

/// The distinct sockets a config needs: a wildcard listen on a port covers
/// specific addresses on the same port (nginx binds only the wildcard).
fn wanted(cfg: &Config) -> Vec<(SocketAddr, i32)> {
    let mut out: Vec<(SocketAddr, i32)> = Vec::new();
    let Some(http) = &cfg.http else { return out };
    let all: Vec<_> = http.servers.iter().flat_map(|s| s.listens.iter()).collect();
    for l in &all {
        let covered = l.addr.port() != 0
            && !l.addr.ip().is_unspecified()
            && all.iter().any(|o| {
                o.addr.port() == l.addr.port()
                    && o.addr.ip().is_unspecified()
                    && o.addr.is_ipv4() == l.addr.is_ipv4()
            });
        if covered || out.iter().any(|(a, _)| *a == l.addr) {
            continue;
        }
        out.push((l.addr, l.backlog));
    }
    out
}

impl Listeners {
    fn new() -> Listeners {
        Listeners {
            socks: HashMap::new(),
            resolved: HashMap::new(),
        }
    }

    /// Make sure every socket `cfg` needs exists; returns per-worker specs.
    fn prepare(&mut self, cfg: &Config) -> Result<Vec<Vec<ListenerSpec>>, String> {
        let n = cfg.worker_processes;
        let mut per_worker: Vec<Vec<ListenerSpec>> = (0..n).map(|_| Vec::new()).collect();
        let http = match &cfg.http {
            Some(h) => h,
            None => return Ok(per_worker),
        };
        for (addr, backlog) in wanted(cfg) {
            let servers: Arc<Vec<Arc<Server>>> = Arc::new(
                http.servers
                    .iter()
                    .filter(|s| {
                        s.listens
                            .iter()
                            .any(|l| l.addr.port() == addr.port() || l.addr == addr)
                    })
                    .cloned()
                    .collect(),
            );
            for (i, specs) in per_worker.iter_mut().enumerate() {
                // key sockets by the address actually bound, so a config that names the
                // port a `:0` listen got (or the same address again) reuses the socket
                let key = self.resolved.get(&addr).copied().unwrap_or(addr);
                if !self.socks.contains_key(&(key, i)) {
                    let l = bind_one(key, backlog)?;
                    let real = l.local_addr().map_err(|e| e.to_string())?;
                    if key.port() == 0 {
                        self.resolved.insert(addr, real);
                        log::log(
                            Level::Notice,
                            &format!("using the \"{addr}\" listen address as {real}"),
                        );
                        report_port(addr, real);
                    }
                    self.socks.insert((real, i), l);
                }
                let real = self.resolved.get(&addr).copied().unwrap_or(addr);
                let l = self.socks[&(real, i)]
                    .try_clone()
                    .map_err(|e| e.to_string())?;
                specs.push(ListenerSpec {
                    listener: l,
                    servers: servers.clone(),
                });
            }
        }
        Ok(per_worker)
    }

    /// Close sockets the current config no longer uses.
    fn retain(&mut self, cfg: &Config) {
        let want: Vec<SocketAddr> = wanted(cfg)
            .into_iter()
            .map(|(a, _)| self.resolved.get(&a).copied().unwrap_or(a))
            .collect();
        let n = cfg.worker_processes;
        self.socks.retain(|(a, i), _| want.contains(a) && *i < n);
    }
}

/// Read before `env` handling clears the environment.
static PORTS_FILE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Tests learn ephemeral ports from this file (MOONWIRE_PORTS_FILE).
fn report_port(configured: SocketAddr, real: SocketAddr) {
    if let Some(p) = PORTS_FILE.get_or_init(|| std::env::var("MOONWIRE_PORTS_FILE").ok()) {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(p)
        {
            let _ = writeln!(f, "{configured} {real}");
        }
    }
}

struct Generation {
    cmd: watch::Sender<Cmd>,
    threads: Vec<JoinHandle<()>>,
}

fn start_workers(cfg: &Arc<Config>, listeners: &mut Listeners) -> Result<Generation, String> {
    let specs = listeners.prepare(cfg)?;
    let (tx, rx) = watch::channel(Cmd::Run);
    let n = cfg.worker_processes;
    let mut threads = Vec::new();
    for (i, s) in specs.into_iter().enumerate() {
        let h = worker::spawn(i, n, cfg.clone(), s, rx.clone())
            .map_err(|e| format!("could not start worker thread: {e}"))?;
        threads.push(h);
    }
    Ok(Generation { cmd: tx, threads })
}

/// Stop a generation: tell its workers, then wait for their threads off the main thread.
fn retire(g: Generation, how: Cmd) -> JoinHandle<()> {
    let _ = g.cmd.send(how);
    std::thread::spawn(move || {
        for t in g.threads {
            let _ = t.join();
        }
        drop(g.cmd);
    })
}

fn open_logs(cfg: &Config) -> Result<(), String> {
    let sink = log::open(&cfg.error_log.path, cfg.error_log.level)?;
    log::set_main(sink);
    for n in &cfg.notices {
        log::log(Level::Notice, n);
    }
    Ok(())
}

fn daemonize(cfg: &Config) -> Result<(), String> {
    // SAFETY: called before any thread exists; fork/setsid/dup2 on valid fds.
    unsafe {
        match libc::fork() {
            -1 => return Err("fork() failed".into()),
            0 => {}
            _ => libc::_exit(0),
        }
        if libc::setsid() == -1 {
            return Err("setsid() failed".into());
        }
        libc::umask(0);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, 0);
            libc::dup2(null, 1);
            if cfg.error_log.path.as_os_str() != "stderr" {
                libc::dup2(null, 2);
            }
            if null > 2 {
                libc::close(null);
            }
        }
    }
    Ok(())
}

/// nginx's `env`: workers see only the variables the config names (and TZ).
fn apply_env(cfg: &Config) {
    let keep: Vec<&str> = cfg.env.iter().map(|(k, _)| k.as_str()).collect();
    for (k, _) in std::env::vars_os() {
        let name = k.to_string_lossy();
        if name != "TZ" && !keep.contains(&name.as_ref()) {
            std::env::remove_var(&k);
        }
    }
    for (k, v) in &cfg.env {
        if let Some(v) = v {
            std::env::set_var(k, v);
        }
    }
}

/// Every connection is a descriptor in this one process: use the hard limit.
fn raise_nofile() {
    // SAFETY: getrlimit/setrlimit on our own process with a valid struct.
    unsafe {
        let mut r: libc::rlimit = std::mem::zeroed();
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) == 0 && r.rlim_cur < r.rlim_max {
            r.rlim_cur = r.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &r);
        }
    }
}

fn write_pid(path: &Path) -> Result<(), String> {
    std::fs::write(path, format!("{}\n", std::process::id())).map_err(|e| {
        format!(
            "open() \"{}\" failed ({}: {})",
            path.display(),
            e.raw_os_error().unwrap_or(0),
            log::strerror(&e)
        )
    })
}

const SIGNALS: [libc::c_int; 6] = [
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGUSR1,
    libc::SIGWINCH,
];

fn block_signals() -> libc::sigset_t {
    // SAFETY: plain sigset manipulation on a local; pthread_sigmask on the calling thread.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in SIGNALS {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

fn wait_signal(set: &libc::sigset_t) -> libc::c_int {
    let mut sig: libc::c_int = 0;
    // SAFETY: set is initialized; sig is a valid out pointer.
    unsafe { libc::sigwait(set, &mut sig) };
    sig
}

/// Run the server until it is told to stop. `Err` is an `[emerg]` message.
pub fn run(cfg: Config, opts: LoadOpts) -> Result<(), String> {
    if cfg.daemon {
        daemonize(&cfg)?;
    }
    open_logs(&cfg)?;
    PORTS_FILE.get_or_init(|| std::env::var("MOONWIRE_PORTS_FILE").ok());
    apply_env(&cfg);
    raise_nofile();
    // Workers inherit the blocked mask, so every signal comes to this thread's sigwait.
    let set = block_signals();
    let mut listeners = Listeners::new();
    crate::lua::check_init(&cfg)?;
    let cfg = Arc::new(cfg);
    let mut current = start_workers(&cfg, &mut listeners)?;
    write_pid(&cfg.pid)?;
    let pid_path = cfg.pid.clone();
    let mut cfg = cfg;
    let mut retiring: Vec<JoinHandle<()>> = Vec::new();
    loop {
        let sig = wait_signal(&set);
        match sig {
            libc::SIGHUP => {
                log::log(Level::Notice, "signal 1 (SIGHUP) received, reconfiguring");
                match config::load(&opts) {
                    Ok(new) => {
                        if let Err(e) = crate::lua::check_init(&new) {
                            log::log(Level::Emerg, &e);
                            log::log(Level::Alert, "the configuration file reload failed, the old configuration is still in use");
                            continue;
                        }
                        let new = Arc::new(new);
                        if let Err(e) = open_logs(&new) {
                            log::log(Level::Emerg, &e);
                            continue;
                        }
                        match start_workers(&new, &mut listeners) {
                            Ok(g) => {
                                let old = std::mem::replace(&mut current, g);
                                retiring.push(retire(old, Cmd::Quit));
                                listeners.retain(&new);
                                cfg = new;
                                log::log(Level::Notice, "reconfiguring done");
                            }
                            Err(e) => log::log(Level::Emerg, &e),
                        }
                    }
                    Err(e) => {
                        log::log(Level::Emerg, &e.to_string());
                        log::log(Level::Alert, "the configuration file reload failed, the old configuration is still in use");
                    }
                }
            }
            libc::SIGUSR1 => {
                log::log(
                    Level::Notice,
                    "signal 10 (SIGUSR1) received, reopening logs",
                );
                log::reopen_all();
            }
            libc::SIGQUIT => {
                log::log(Level::Notice, "signal 3 (SIGQUIT) received, shutting down");
                retiring.push(retire(current, Cmd::Quit));
                break;
            }
            libc::SIGWINCH => {}
            _ => {
                log::log(Level::Notice, &format!("signal {sig} received, exiting"));
                retiring.push(retire(current, Cmd::Stop));
                break;
            }
        }
    }
    for t in retiring {
        let _ = t.join();
    }
    let _ = std::fs::remove_file(&pid_path);
    log::log(Level::Notice, "exit");
    let _ = cfg;
    Ok(())
}

/// `-s stop|quit|reload|reopen`: signal the running instance named in the pid file.
pub fn signal(cfg: &Config, name: &str) -> Result<(), String> {
    let sig = match name {
        "stop" => libc::SIGTERM,
        "quit" => libc::SIGQUIT,
        "reload" => libc::SIGHUP,
        "reopen" => libc::SIGUSR1,
        _ => return Err(format!("invalid option: \"-s {name}\"")),
    };
    let text = std::fs::read_to_string(&cfg.pid).map_err(|e| {
        format!(
            "open() \"{}\" failed ({}: {})",
            cfg.pid.display(),
            e.raw_os_error().unwrap_or(0),
            log::strerror(&e)
        )
    })?;
    let pid: i32 = text.trim().parse().map_err(|_| {
        format!(
            "invalid PID number \"{}\" in \"{}\"",
            text.trim(),
            cfg.pid.display()
        )
    })?;
    // SAFETY: kill with a pid read from our own pid file.
    if unsafe { libc::kill(pid, sig) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(format!(
            "kill({}, {}) failed ({}: {})",
            pid,
            sig,
            e.raw_os_error().unwrap_or(0),
            log::strerror(&e)
        ));
    }
    Ok(())
}
