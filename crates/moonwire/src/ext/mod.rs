//! Native extensions: Rust code that Lua reaches with `require "name"`.
//!
//! A [`Module`] is a named set of functions. Each function is one of:
//!
//! - [`Module::function`]: runs and returns at once, on the worker thread;
//! - [`Module::async_function`]: returns a future that the worker's
//!   current-thread tokio runtime drives (tokio-based clients plug in here);
//! - [`Module::callback_function`]: hands a [`Completion`] to code that fires
//!   it later from any thread (a library with its own thread pool and a
//!   callback API).
//!
//! While an async or callback function is pending, only the calling Lua
//! coroutine waits; the worker serves everything else. When the request
//! ends first (client abort, `ngx.exit`, a killed light thread, the
//! module's [`timeout`](Module::timeout)), the future is dropped, and a
//! completion fired afterwards is discarded ([`Completion::complete`]
//! returns `false`). Results are `nil, err` on [`Error::Fail`].
//!
//! Modules are registered once per process with
//! [`Server::builder`](crate::Server::builder) and preloaded into every VM
//! (`package.preload`). docs/extensions.md walks through writing one.
//!
//! A completion is fired at most once because firing consumes it:
//!
//! ```
//! fn once(c: moonwire::ext::Completion) -> bool {
//!     c.ok(vec![])
//! }
//! ```
//!
//! ```compile_fail,E0382
//! fn twice(c: moonwire::ext::Completion) {
//!     c.ok(vec![]);
//!     c.ok(vec![]); // use of moved value
//! }
//! ```

mod call;
mod value;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::oneshot;

pub use value::{Args, Error, Result, Value};

/// What an async function's future or a completion delivers: the values
/// returned to Lua, or the message of `nil, err`.
pub type Outcome = std::result::Result<Vec<Value>, String>;

type LocalFuture = Pin<Box<dyn Future<Output = Outcome>>>;
type SyncFn = dyn Fn(Args) -> Result<Vec<Value>> + Send + Sync;
type AsyncFn = dyn Fn(Args) -> Result<LocalFuture> + Send + Sync;
type CallbackFn = dyn Fn(Args, Completion) -> Result<()> + Send + Sync;

enum Kind {
    Sync(Box<SyncFn>),
    Async(Box<AsyncFn>),
    Callback(Box<CallbackFn>),
}

struct Func {
    /// As Lua error messages name it: `bad argument #1 to 'hash'`.
    name: &'static str,
    kind: Kind,
    timeout: Option<Duration>,
}

/// A Lua module implemented in Rust. Build it with the methods below and
/// register it with [`Builder::extension`](crate::Builder::extension).
pub struct Module {
    name: String,
    funcs: Vec<Func>,
    timeout: Option<Duration>,
}

impl Module {
    /// A module that Lua loads with `require "<name>"`.
    pub fn new(name: impl Into<String>) -> Module {
        Module {
            name: name.into(),
            funcs: Vec::new(),
            timeout: None,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bound the wait of every async and callback function added after
    /// this call: past `d` the caller gets `nil, "timeout"` and the pending
    /// future (or completion) is dropped.
    pub fn timeout(mut self, d: Duration) -> Module {
        self.timeout = Some(d);
        self
    }

    /// A function that returns at once. It runs on the worker thread, so it
    /// must not block (the watchdog's `lua_blocking_warn_threshold` notices).
    pub fn function<F>(self, name: &str, f: F) -> Module
    where
        F: Fn(Args) -> Result<Vec<Value>> + Send + Sync + 'static,
    {
        self.add(name, Kind::Sync(Box::new(f)))
    }

    /// A function whose result comes from a future run on the worker's
    /// current-thread tokio runtime (it need not be `Send`). `f` itself runs
    /// before the caller waits: check the arguments there (an
    /// [`Error::Raise`] becomes a Lua error), then return the future.
    ///
    /// # Cancel safety
    /// The future is dropped, possibly before completion, when the request
    /// ends first or the module's timeout passes.
    pub fn async_function<F, Fut>(self, name: &str, f: F) -> Module
    where
        F: Fn(Args) -> Result<Fut> + Send + Sync + 'static,
        Fut: Future<Output = Outcome> + 'static,
    {
        let boxed: Box<AsyncFn> = Box::new(move |a| f(a).map(|fut| Box::pin(fut) as LocalFuture));
        self.add(name, Kind::Async(boxed))
    }

    /// A function whose result comes from a [`Completion`] that `f` hands to
    /// other code (typically a library's callback running on its own
    /// threads). `f` runs on the worker thread and must not block. When `f`
    /// returns an error the completion is ignored.
    pub fn callback_function<F>(self, name: &str, f: F) -> Module
    where
        F: Fn(Args, Completion) -> Result<()> + Send + Sync + 'static,
    {
        self.add(name, Kind::Callback(Box::new(f)))
    }

    fn add(mut self, name: &str, kind: Kind) -> Module {
        // registered once per process and kept for its lifetime: Args and
        // error messages borrow the name without counting references
        let name: &'static str = Box::leak(name.to_string().into_boxed_str());
        self.funcs.retain(|f| f.name != name);
        self.funcs.push(Func {
            name,
            kind,
            timeout: self.timeout,
        });
        self
    }
}

/// The result slot of one pending callback call. Send it to any thread and
/// fire it once with [`complete`](Self::complete) (or `ok` / `fail`); the
/// waiting request resumes on its own worker. Dropping it unfired resumes
/// the caller with `nil, "completion dropped"`.
pub struct Completion {
    tx: Option<oneshot::Sender<Outcome>>,
}

impl Completion {
    fn pair() -> (Completion, oneshot::Receiver<Outcome>) {
        let (tx, rx) = oneshot::channel();
        (Completion { tx: Some(tx) }, rx)
    }

    /// Deliver the result. Returns `false` when nobody waits any more (the
    /// request ended, or the call timed out): the result is dropped here.
    pub fn complete(mut self, r: Outcome) -> bool {
        let Some(tx) = self.tx.take() else {
            return false;
        };
        let delivered = tx.send(r).is_ok();
        let c = if delivered {
            &STATS.completed
        } else {
            &STATS.late
        };
        c.fetch_add(1, Ordering::Relaxed);
        delivered
    }

    /// `complete(Ok(values))`.
    pub fn ok(self, values: Vec<Value>) -> bool {
        self.complete(Ok(values))
    }

    /// `complete(Err(msg))`: the caller gets `nil, msg`.
    pub fn fail(self, msg: impl Into<String>) -> bool {
        self.complete(Err(msg.into()))
    }

    /// Whether the caller is gone, so the work may be skipped.
    pub fn is_cancelled(&self) -> bool {
        self.tx.as_ref().is_none_or(|t| t.is_closed())
    }
}

impl Drop for Completion {
    fn drop(&mut self) {
        if self.tx.is_some() {
            STATS.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl std::fmt::Debug for Completion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Completion")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// Process-wide counters of extension calls (for tests and monitoring).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Calls waiting right now.
    pub pending: u64,
    /// Completions delivered to a waiting caller.
    pub completed: u64,
    /// Completions fired after their caller was gone (result discarded).
    pub late: u64,
    /// Completions dropped without being fired.
    pub dropped: u64,
    /// Waits given up because the request ended first (future dropped).
    pub cancelled: u64,
    /// Waits that hit the module's timeout.
    pub timed_out: u64,
}

struct Counters {
    pending: AtomicU64,
    completed: AtomicU64,
    late: AtomicU64,
    dropped: AtomicU64,
    cancelled: AtomicU64,
    timed_out: AtomicU64,
}

static STATS: Counters = Counters {
    pending: AtomicU64::new(0),
    completed: AtomicU64::new(0),
    late: AtomicU64::new(0),
    dropped: AtomicU64::new(0),
    cancelled: AtomicU64::new(0),
    timed_out: AtomicU64::new(0),
};

pub fn stats() -> Stats {
    let l = |a: &AtomicU64| a.load(Ordering::Relaxed);
    Stats {
        pending: l(&STATS.pending),
        completed: l(&STATS.completed),
        late: l(&STATS.late),
        dropped: l(&STATS.dropped),
        cancelled: l(&STATS.cancelled),
        timed_out: l(&STATS.timed_out),
    }
}

impl Stats {
    /// The counters as a Lua table (for a module's own `stats()` function).
    pub fn to_value(&self) -> Value {
        Value::map([
            ("pending", Value::Int(self.pending as i64)),
            ("completed", Value::Int(self.completed as i64)),
            ("late", Value::Int(self.late as i64)),
            ("dropped", Value::Int(self.dropped as i64)),
            ("cancelled", Value::Int(self.cancelled as i64)),
            ("timed_out", Value::Int(self.timed_out as i64)),
        ])
    }
}

static MODULES: OnceLock<Vec<Module>> = OnceLock::new();

/// Register the process's extensions (once, before any VM exists).
pub(crate) fn set_modules(mods: Vec<Module>) -> std::result::Result<(), String> {
    for (i, m) in mods.iter().enumerate() {
        if m.name.is_empty() {
            return Err("an extension module has an empty name".into());
        }
        if mods[..i].iter().any(|o| o.name == m.name) {
            return Err(format!(
                "extension module \"{}\" is registered twice",
                m.name
            ));
        }
    }
    MODULES
        .set(mods)
        .map_err(|_| "extension modules are already registered".to_string())
}

/// Put every registered module into this VM's `package.preload`.
pub fn install(lua: &mlua::Lua) -> mlua::Result<()> {
    match MODULES.get() {
        Some(mods) if !mods.is_empty() => call::install(lua, mods),
        _ => Ok(()),
    }
}
