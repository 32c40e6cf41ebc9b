//! Blocking detection (`lua_blocking_warn_threshold`): one thread per
//! process notices a worker whose Lua code has run longer than the
//! threshold without yielding, and the worker logs a `[warn]` naming the
//! request, the location and the Lua line it was at.
//!
//! The hot path is two thread-local updates and one relaxed store per
//! resume ([`Busy`]): the worker publishes a sequence number that is odd
//! while Lua runs. The watchdog samples it every few milliseconds; when the
//! same odd number stays for the threshold, it signals the worker thread
//! (SIGURG, like Go's preemption: ignored by default, unused by sockets
//! here). The signal handler arms a LuaJIT hook with `lua_sethook`, which
//! is async-signal-safe by design (luajit.c's Ctrl-C handler does the same).
//! The hook runs at the next interpreted instruction, on the worker, where
//! it may read the stack and log. Compiled code runs no hooks, so a trace
//! that loops to the end of the resume is reported when the resume ends,
//! without a line.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, CStr};
use std::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

use mlua::ffi;

use crate::log::{self, Level};
use crate::lua::driver;
use crate::lua::raw::State;

/// What one worker thread shares with the watchdog.
struct Slot {
    /// Odd while the worker runs Lua; changes on every resume.
    seq: AtomicU64,
    /// The odd `seq` the watchdog wants reported.
    want: AtomicU64,
    /// The `seq` already reported (by the hook, or when the run ended).
    reported: AtomicU64,
    /// How long the run had lasted when the watchdog saw it.
    busy_ms: AtomicU64,
    main: AtomicPtr<ffi::lua_State>,
    thread: libc::pthread_t,
    threshold_ms: u64,
}

struct Entry {
    slot: Arc<Slot>,
    seen_seq: u64,
    seen_at: Instant,
    warned: u64,
}

static WATCHED: Mutex<Vec<Entry>> = Mutex::new(Vec::new());

const UNKNOWN: u8 = 0;
const OFF: u8 = 1;
const ON: u8 = 2;

thread_local! {
    // const-initialised and without destructor: plain TLS, readable from the signal handler
    static SLOT: Cell<*const Slot> = const { Cell::new(ptr::null()) };
    static STATE: Cell<u8> = const { Cell::new(UNKNOWN) };
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    static SEQ: Cell<u64> = const { Cell::new(0) };
    static REGISTRATION: RefCell<Option<Registration>> = const { RefCell::new(None) };
}

/// Keeps this thread's slot registered; dropped when the worker thread exits.
struct Registration(Arc<Slot>);

impl Drop for Registration {
    fn drop(&mut self) {
        SLOT.with(|s| s.set(ptr::null()));
        if let Ok(mut w) = WATCHED.lock() {
            w.retain(|e| !Arc::ptr_eq(&e.slot, &self.0));
        }
    }
}

/// Marks the worker busy for the duration of one resume (the outermost, when
/// a resume runs another, e.g. `ngx.thread.spawn`).
pub struct Busy(*const Slot);

impl Busy {
    #[inline]
    pub fn enter(main: State) -> Busy {
        let mut slot = SLOT.with(|s| s.get());
        if slot.is_null() {
            if STATE.with(|s| s.get()) != UNKNOWN {
                return Busy(ptr::null());
            }
            slot = register(main);
            if slot.is_null() {
                return Busy(ptr::null());
            }
        }
        let depth = DEPTH.with(|d| d.replace(d.get() + 1));
        if depth == 0 {
            let seq = SEQ.with(|s| s.get()) + 1;
            SEQ.with(|s| s.set(seq));
            // SAFETY: the slot outlives every Busy of this thread (see Registration).
            let s = unsafe { &*slot };
            s.main.store(main, Ordering::Relaxed);
            s.seq.store(seq, Ordering::Release);
        }
        Busy(slot)
    }
}

impl Drop for Busy {
    #[inline]
    fn drop(&mut self) {
        if self.0.is_null() {
            return;
        }
        let depth = DEPTH.with(|d| d.replace(d.get() - 1)) - 1;
        if depth != 0 {
            return;
        }
        let seq = SEQ.with(|s| s.get());
        SEQ.with(|s| s.set(seq + 1));
        // SAFETY: as in `enter`.
        let s = unsafe { &*self.0 };
        // even from here on: a late signal no longer arms the hook
        s.seq.store(seq + 1, Ordering::Release);
        if s.want.load(Ordering::Acquire) == seq && s.reported.load(Ordering::Relaxed) != seq {
            s.reported.store(seq, Ordering::Relaxed);
            // SAFETY: main is this thread's VM; no Lua code runs on this thread now.
            unsafe { ffi::lua_sethook(s.main.load(Ordering::Relaxed), None, 0, 0) };
            report(s, None);
        }
    }
}

/// The first resume on a thread: watch it if it is a worker with a threshold.
#[cold]
fn register(main: State) -> *const Slot {
    // not a worker (yet): look again on the next resume
    let Some(w) = crate::worker::current() else {
        return ptr::null();
    };
    let threshold = w
        .cfg
        .http
        .as_ref()
        .map_or(Some(DEFAULT_THRESHOLD_MS), |h| h.lua.blocking_warn_ms);
    let Some(threshold_ms) = threshold else {
        STATE.with(|s| s.set(OFF));
        return ptr::null();
    };
    let slot = Arc::new(Slot {
        seq: AtomicU64::new(0),
        want: AtomicU64::new(0),
        reported: AtomicU64::new(0),
        busy_ms: AtomicU64::new(0),
        main: AtomicPtr::new(main),
        // SAFETY: pthread_self has no preconditions.
        thread: unsafe { libc::pthread_self() },
        threshold_ms,
    });
    let p = Arc::as_ptr(&slot);
    match WATCHED.lock() {
        Ok(mut w) => w.push(Entry {
            slot: slot.clone(),
            seen_seq: 0,
            seen_at: Instant::now(),
            warned: 0,
        }),
        Err(_) => {
            STATE.with(|s| s.set(OFF));
            return ptr::null();
        }
    }
    // after the first entry exists, so the thread's first sleep is a short one
    start();
    REGISTRATION.with(|r| *r.borrow_mut() = Some(Registration(slot)));
    SLOT.with(|s| s.set(p));
    STATE.with(|s| s.set(ON));
    p
}

/// `lua_blocking_warn_threshold` when the config does not say.
pub const DEFAULT_THRESHOLD_MS: u64 = 100;

/// Install the signal handler and start the watchdog thread, once per process.
fn start() {
    static START: Once = Once::new();
    START.call_once(|| {
        // SAFETY: a plain handler that only touches thread-local data and lua_sethook.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            sa.sa_flags = libc::SA_RESTART;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(libc::SIGURG, &sa, ptr::null_mut());
        }
        let _ = std::thread::Builder::new()
            .name("watchdog".into())
            .spawn(watch);
    });
}

fn watch() {
    loop {
        let tick = {
            let Ok(mut w) = WATCHED.lock() else { return };
            let now = Instant::now();
            for e in w.iter_mut() {
                let seq = e.slot.seq.load(Ordering::Acquire);
                if seq & 1 == 0 {
                    continue;
                }
                if seq != e.seen_seq {
                    e.seen_seq = seq;
                    e.seen_at = now;
                    continue;
                }
                let ms = now.duration_since(e.seen_at).as_millis() as u64;
                if e.warned != seq && ms >= e.slot.threshold_ms {
                    e.warned = seq;
                    e.slot.busy_ms.store(ms, Ordering::Relaxed);
                    e.slot.want.store(seq, Ordering::Release);
                    // SAFETY: the thread is registered, so it has not exited (it
                    // unregisters under this lock before it does).
                    unsafe { libc::pthread_kill(e.slot.thread, libc::SIGURG) };
                }
            }
            // sampling at a fifth of the threshold: a run is reported between
            // 1x and 1.2x the threshold after it started
            let min = w.iter().map(|e| e.slot.threshold_ms).min().unwrap_or(1000);
            Duration::from_millis((min / 5).clamp(2, 200))
        };
        std::thread::sleep(tick);
    }
}

extern "C" fn on_signal(_: c_int) {
    let p = SLOT.with(|s| s.get());
    if p.is_null() {
        return;
    }
    // SAFETY: the slot outlives the registration that set the pointer.
    let s = unsafe { &*p };
    let seq = s.seq.load(Ordering::Acquire);
    if seq & 1 == 1 && s.want.load(Ordering::Acquire) == seq {
        let mask = ffi::LUA_MASKCALL | ffi::LUA_MASKRET | ffi::LUA_MASKCOUNT;
        // SAFETY: async-signal-safe in LuaJIT; main is the VM running on this thread.
        unsafe { ffi::lua_sethook(s.main.load(Ordering::Relaxed), Some(hook), mask, 1) };
    }
}

unsafe extern "C-unwind" fn hook(l: State, _: *mut ffi::lua_Debug) {
    ffi::lua_sethook(l, None, 0, 0);
    let p = SLOT.with(|s| s.get());
    if p.is_null() {
        return;
    }
    let s = &*p;
    let seq = s.seq.load(Ordering::Acquire);
    if s.want.load(Ordering::Acquire) != seq || s.reported.load(Ordering::Relaxed) == seq {
        return;
    }
    s.reported.store(seq, Ordering::Relaxed);
    report(s, position(l));
}

/// `chunk:line` of the innermost Lua frame that has a line and is the
/// user's (our own Lua glue, `moonwire.*` chunks, is skipped).
unsafe fn position(l: State) -> Option<String> {
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    for level in 0..32 {
        if ffi::lua_getstack(l, level, &mut ar) == 0 {
            break;
        }
        ffi::lua_getinfo(l, c"Sl".as_ptr(), &mut ar);
        let src = CStr::from_ptr(ar.short_src.as_ptr()).to_string_lossy();
        if ar.currentline > 0 && !src.starts_with("moonwire.") {
            return Some(format!("{src}:{}", ar.currentline));
        }
    }
    None
}

fn report(s: &Slot, at: Option<String>) {
    let at = at.unwrap_or_else(|| "an unknown line (JIT-compiled code)".into());
    let msg = format!(
        "lua code has run for {} ms without yielding (lua_blocking_warn_threshold {}ms), at {at}",
        s.busy_ms.load(Ordering::Relaxed),
        s.threshold_ms
    );
    match driver::current() {
        Some(r) => {
            let loc = r.server.locations.name_of(&r.loc).unwrap_or("");
            r.log(Level::Warn, &format!("{msg}, location: \"{loc}\""));
        }
        None => {
            let ctx = driver::current_phase().map_or("", |p| p.context_name());
            log::log(Level::Warn, &format!("{msg}, context: {ctx}"));
        }
    }
}
