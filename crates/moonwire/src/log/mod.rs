//! The error log: nginx's line format, level filtering, unbuffered writes.
//!
//! Every line is one `write(2)` on a file opened with `O_APPEND`, so lines
//! from different worker threads never interleave and tools (and tests) can
//! read the log right after a response.

pub mod capture;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Stderr = 0,
    Emerg = 1,
    Alert = 2,
    Crit = 3,
    Error = 4,
    Warn = 5,
    Notice = 6,
    Info = 7,
    Debug = 8,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "stderr" => Level::Stderr,
            "emerg" => Level::Emerg,
            "alert" => Level::Alert,
            "crit" => Level::Crit,
            "error" => Level::Error,
            "warn" => Level::Warn,
            "notice" => Level::Notice,
            "info" => Level::Info,
            "debug" => Level::Debug,
            _ => return None,
        })
    }

    pub fn from_ngx(n: i64) -> Option<Level> {
        Some(match n {
            0 => Level::Stderr,
            1 => Level::Emerg,
            2 => Level::Alert,
            3 => Level::Crit,
            4 => Level::Error,
            5 => Level::Warn,
            6 => Level::Notice,
            7 => Level::Info,
            8 => Level::Debug,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Stderr => "",
            Level::Emerg => "emerg",
            Level::Alert => "alert",
            Level::Crit => "crit",
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Notice => "notice",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

/// One open log destination.
#[derive(Debug)]
pub struct Sink {
    path: PathBuf,
    file: RwLock<Option<File>>,
    pub level: Level,
}

impl Sink {
    pub fn enabled(&self, level: Level) -> bool {
        level <= self.level
    }

    pub fn same(&self, path: &Path, level: Level) -> bool {
        self.path == path && self.level == level
    }

    pub fn write_raw(&self, line: &[u8]) {
        if self.path.as_os_str() == "stderr" {
            let _ = std::io::stderr().write_all(line);
            return;
        }
        if let Ok(g) = self.file.read() {
            if let Some(mut f) = g.as_ref() {
                let _ = f.write_all(line);
            }
        }
    }

    fn reopen(&self) {
        if self.path.as_os_str() == "stderr" {
            return;
        }
        if let Ok(f) = open_append(&self.path) {
            if let Ok(mut g) = self.file.write() {
                *g = Some(f);
            }
        }
    }
}

fn open_append(p: &Path) -> std::io::Result<File> {
    OpenOptions::new().create(true).append(true).open(p)
}

/// Open (or create) a log sink; fails like nginx with the `open()` message.
pub fn open(path: &Path, level: Level) -> Result<Arc<Sink>, String> {
    let file = if path.as_os_str() == "stderr" {
        None
    } else {
        Some(open_append(path).map_err(|e| {
            format!(
                "open() \"{}\" failed ({}: {})",
                path.display(),
                e.raw_os_error().unwrap_or(0),
                strerror(&e)
            )
        })?)
    };
    Ok(Arc::new(Sink {
        path: path.to_path_buf(),
        file: RwLock::new(file),
        level,
    }))
}

pub fn strerror(e: &std::io::Error) -> String {
    let s = e.to_string();
    // "No such file or directory (os error 2)" -> "No such file or directory"
    match s.rfind(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

static MAIN: RwLock<Option<Arc<Sink>>> = RwLock::new(None);
static ALL: Mutex<Vec<std::sync::Weak<Sink>>> = Mutex::new(Vec::new());

/// Install the process-wide error log (the main-level `error_log`).
pub fn set_main(sink: Arc<Sink>) {
    track(&sink);
    if let Ok(mut g) = MAIN.write() {
        *g = Some(sink);
    }
}

pub fn track(sink: &Arc<Sink>) {
    if let Ok(mut all) = ALL.lock() {
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(sink));
    }
}

pub fn main_sink() -> Option<Arc<Sink>> {
    MAIN.read().ok().and_then(|g| g.clone())
}

/// SIGUSR1: reopen every log file (after logrotate moved them).
pub fn reopen_all() {
    if let Ok(all) = ALL.lock() {
        for s in all.iter().filter_map(|w| w.upgrade()) {
            s.reopen();
        }
    }
}

thread_local! {
    static TID: u64 = unsafe_free_gettid();
}

/// This thread's Linux thread id (the `tid` of `pid#tid` in log lines).
pub fn tid() -> u64 {
    TID.with(|t| *t)
}

fn unsafe_free_gettid() -> u64 {
    // SAFETY: gettid has no preconditions.
    (unsafe { libc::syscall(libc::SYS_gettid) }) as u64
}

/// Format one nginx error-log line: `2026/11/22 02:47:23 [error] 1234#5: *7 msg<ctx>\n`.
pub fn format_line(level: Level, conn: Option<u64>, msg: &str, ctx: &str) -> Vec<u8> {
    let mut line = Vec::with_capacity(64 + msg.len() + ctx.len());
    line.extend_from_slice(ngx_util::err_log_time().as_bytes());
    line.extend_from_slice(b" [");
    line.extend_from_slice(level.name().as_bytes());
    line.extend_from_slice(b"] ");
    let tid = tid();
    let _ = write!(line, "{}#{}: ", std::process::id(), tid);
    if let Some(c) = conn {
        let _ = write!(line, "*{c} ");
    }
    line.extend_from_slice(msg.as_bytes());
    line.extend_from_slice(ctx.as_bytes());
    line.push(b'\n');
    line
}

/// Log to a given sink (a location's `error_log`) or the main one.
pub fn log_to(sink: Option<&Arc<Sink>>, level: Level, conn: Option<u64>, msg: &str, ctx: &str) {
    let main;
    let sink = match sink {
        Some(s) => s,
        None => match main_sink() {
            Some(s) => {
                main = s;
                &main
            }
            None => {
                if level <= Level::Error {
                    eprintln!("nginx: [{}] {}", level.name(), msg);
                }
                return;
            }
        },
    };
    if sink.enabled(level) {
        let line = format_line(level, conn, msg, ctx);
        capture::capture(level, &line[..line.len() - 1]);
        sink.write_raw(&line);
    }
}

/// Log a line with no request context to the main error log.
pub fn log(level: Level, msg: &str) {
    log_to(None, level, None, msg, "");
}

pub fn enabled(level: Level) -> bool {
    main_sink().is_none_or(|s| s.enabled(level))
}

#[macro_export]
macro_rules! error_log {
    ($lvl:expr, $($arg:tt)*) => {
        if $crate::log::enabled($lvl) {
            $crate::log::log($lvl, &format!($($arg)*));
        }
    };
}
