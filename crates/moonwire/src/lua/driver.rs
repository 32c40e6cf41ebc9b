//! The coroutine driver: runs one *task* (a request's Lua handler, or a
//! timer callback) made of an entry coroutine plus the light threads it
//! spawns. When an API call must wait (sleep, socket I/O ...) it registers a
//! future and yields; the driver awaits the futures of all the task's threads
//! and resumes each thread with its result.
//!
//! Rust holds no mlua handle for a suspended coroutine: a [`Co`] is a state
//! pointer anchored by a registry reference, and a future's output is a
//! closure that builds the Lua values only after the wait.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::ffi::c_int;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use futures_util::stream::{FuturesUnordered, StreamExt};
use mlua::{ffi, Lua, MultiValue};

use super::raw::{self, State};
use super::{Co, Vm};
use crate::log::Level;
use crate::request::{Phase, Req};

/// Builds the values the suspended coroutine is resumed with.
pub type Resumer = Box<dyn FnOnce(&Lua) -> mlua::Result<MultiValue>>;
pub type WaitFuture = Pin<Box<dyn Future<Output = Resumer>>>;

pub enum Pending {
    /// Await the future, then resume with its values.
    Wait(WaitFuture),
    /// `ngx.exit(code)`: stop running Lua for this task.
    Exit(i64),
    /// `ngx.thread.wait`: resumed when one of the threads it waits on ends.
    Threads,
}

/// What a running task looks like to the API functions it calls.
struct Ctx {
    req: Option<Rc<Req>>,
    task: Option<Rc<Task>>,
    tid: usize,
    phase: Option<Phase>,
}

thread_local! {
    static PENDING: RefCell<Option<Pending>> = const { RefCell::new(None) };
    static CTX: RefCell<Ctx> = const { RefCell::new(Ctx { req: None, task: None, tid: 0, phase: None }) };
}

/// Register what the coroutine is about to yield for.
pub fn set_pending(p: Pending) {
    PENDING.with(|s| *s.borrow_mut() = Some(p));
}

fn take_pending() -> Option<Pending> {
    PENDING.with(|s| s.borrow_mut().take())
}

/// The request whose Lua code is running on this worker right now.
pub fn current() -> Option<Rc<Req>> {
    CTX.with(|c| c.borrow().req.clone())
}

pub fn with_current<R>(f: impl FnOnce(Option<&Rc<Req>>) -> R) -> R {
    CTX.with(|c| f(c.borrow().req.as_ref()))
}

/// The phase of the running task, if one is running.
pub fn current_phase() -> Option<Phase> {
    CTX.with(|c| c.borrow().phase)
}

/// The running task and the index of the running light thread in it.
pub fn current_task() -> Option<(Rc<Task>, usize)> {
    CTX.with(|c| {
        let c = c.borrow();
        c.task.clone().map(|t| (t, c.tid))
    })
}

/// Makes a task's thread current for the duration of a resume.
pub struct CurrentGuard(Option<Ctx>);

impl CurrentGuard {
    fn enter(task: &Rc<Task>, tid: usize) -> CurrentGuard {
        let new = Ctx {
            req: task.req.clone(),
            task: Some(task.clone()),
            tid,
            phase: Some(task.phase),
        };
        CurrentGuard(Some(
            CTX.with(|c| std::mem::replace(&mut *c.borrow_mut(), new)),
        ))
    }
}

impl Drop for CurrentGuard {
    fn drop(&mut self) {
        if let Some(prev) = self.0.take() {
            CTX.with(|c| *c.borrow_mut() = prev);
        }
    }
}

pub enum Outcome {
    /// The handler (and every light thread) returned.
    Done,
    /// `ngx.exit(code)`.
    Exit(i64),
    /// A Lua error in the entry thread, formatted for the error log.
    Error(String),
}

#[derive(Debug)]
enum State_ {
    /// Running, or suspended in an API wait.
    Alive,
    /// In `ngx.thread.wait` on these threads.
    WaitingFor(Vec<usize>),
    /// Finished: its results (or `false, err`) are on its stack until waited for.
    Dead { ok: bool, waited: bool },
    /// Killed, or given back to the VM.
    Gone,
}

struct Thread {
    co: Co,
    parent: usize,
    state: State_,
    /// Bumped when the thread is killed, so its pending wait's result is ignored.
    gen: u32,
    /// Waiting for subrequests (it cannot be killed then, as in OpenResty).
    in_subrequest: bool,
}

/// How a thread is resumed when it becomes ready.
enum Wake {
    Values(Resumer),
    /// Resume a waiter with the results of thread N.
    ThreadDone(usize),
}

/// A thread's pending wait: resolves to (thread, generation, resumer).
struct Completion {
    tid: usize,
    gen: u32,
    fut: WaitFuture,
}

impl Future for Completion {
    type Output = (usize, u32, Resumer);

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let (tid, gen) = (self.tid, self.gen);
        self.fut.as_mut().poll(cx).map(|r| (tid, gen, r))
    }
}

/// One request handler or timer callback with its light threads.
pub struct Task {
    pub req: Option<Rc<Req>>,
    pub phase: Phase,
    threads: RefCell<Vec<Thread>>,
    /// Waits registered since the driver last polled.
    new_waits: RefCell<Vec<Completion>>,
    ready: RefCell<VecDeque<(usize, Wake)>>,
    exit: Cell<Option<i64>>,
    error: RefCell<Option<String>>,
    /// `ngx.on_abort` callback (registry reference).
    pub on_abort: Cell<Option<c_int>>,
    /// Cosockets created by this task: closed when it ends, as OpenResty does.
    sockets: RefCell<Vec<std::rc::Weak<ngx_cosocket::TcpSock>>>,
}

impl Task {
    pub fn new(req: Option<Rc<Req>>, phase: Phase) -> Rc<Task> {
        Rc::new(Task {
            req,
            phase,
            threads: RefCell::new(Vec::new()),
            new_waits: RefCell::new(Vec::new()),
            ready: RefCell::new(VecDeque::new()),
            exit: Cell::new(None),
            error: RefCell::new(None),
            on_abort: Cell::new(None),
            sockets: RefCell::new(Vec::new()),
        })
    }

    /// The index of the light thread running coroutine `th`, if it is ours
    /// (the entry thread is not a user thread).
    pub fn thread_of(&self, th: State) -> Option<usize> {
        self.threads
            .borrow()
            .iter()
            .rposition(|t| t.co.th == th)
            .filter(|&i| i > 0)
    }

    /// What `coroutine.status` reports for light thread `tid` (None: ask Lua).
    pub fn status_of(&self, tid: usize) -> Option<&'static str> {
        match self.threads.borrow()[tid].state {
            State_::Dead { waited: false, .. } => Some("zombie"),
            State_::Dead { waited: true, .. } | State_::Gone => Some("dead"),
            State_::Alive | State_::WaitingFor(_) => {
                let running = current_task().is_some_and(|(_, me)| me == tid);
                (!running).then_some("running")
            }
        }
    }

    pub fn in_subrequest(&self, tid: usize) -> bool {
        self.threads.borrow()[tid].in_subrequest
    }

    pub fn set_in_subrequest(&self, tid: usize, on: bool) {
        self.threads.borrow_mut()[tid].in_subrequest = on;
    }

    pub fn parent_of(&self, tid: usize) -> usize {
        self.threads.borrow()[tid].parent
    }

    /// `coroutine.status` for light threads: dead-but-unwaited is "zombie".
    pub fn is_zombie(&self, tid: usize) -> bool {
        matches!(
            self.threads.borrow()[tid].state,
            State_::Dead { waited: false, .. }
        )
    }

    fn add(&self, co: Co, parent: usize) -> usize {
        let mut ts = self.threads.borrow_mut();
        ts.push(Thread {
            co,
            parent,
            state: State_::Alive,
            gen: 0,
            in_subrequest: false,
        });
        ts.len() - 1
    }

    /// Resume thread `tid` with `nargs` values already on its stack, then
    /// record what it did (finished, failed, or what it waits for).
    fn resume(self: &Rc<Task>, vm: &Vm, tid: usize, nargs: c_int) {
        let co = self.threads.borrow()[tid].co;
        let status = {
            let _g = CurrentGuard::enter(self, tid);
            // SAFETY: co belongs to this task and is suspended (or fresh) with nargs pushed.
            unsafe { ffi::lua_resume_(co.th, nargs) }
        };
        self.after(vm, tid, status);
    }

    fn after(self: &Rc<Task>, vm: &Vm, tid: usize, status: c_int) {
        match status {
            0 => {
                if tid == 0 && self.phase == Phase::Set {
                    self.keep_set_result();
                }
                self.finished(tid, true)
            }
            ffi::LUA_YIELD => match take_pending() {
                Some(Pending::Wait(fut)) => {
                    let gen = self.threads.borrow()[tid].gen;
                    self.new_waits
                        .borrow_mut()
                        .push(Completion { tid, gen, fut });
                }
                Some(Pending::Exit(code)) => self.exit.set(Some(code)),
                Some(Pending::Threads) => {}
                None => {
                    // a bare coroutine.yield(): run again after others had a turn
                    let gen = self.threads.borrow()[tid].gen;
                    let fut: WaitFuture = Box::pin(async {
                        tokio::task::yield_now().await;
                        let r: Resumer = Box::new(|_| Ok(MultiValue::new()));
                        r
                    });
                    self.new_waits
                        .borrow_mut()
                        .push(Completion { tid, gen, fut });
                }
            },
            _ => {
                let co = self.threads.borrow()[tid].co;
                // SAFETY: the coroutine failed; its stack holds the error object,
                // duplicated so a user thread keeps it for ngx.thread.wait.
                let msg = unsafe {
                    if tid != 0 {
                        ffi::lua_pushvalue(co.th, -1);
                    }
                    failure(vm.main_state(), co.th)
                };
                if tid == 0 {
                    *self.error.borrow_mut() = Some(msg);
                } else {
                    let line = format!("lua user thread aborted: runtime error: {msg}");
                    match &self.req {
                        Some(r) => r.log(Level::Error, &line),
                        None => crate::log::log(Level::Error, &line),
                    }
                    // SAFETY: a dead coroutine's stack can be rearranged: keep only
                    // the error value, which `ngx.thread.wait` returns after `false`
                    unsafe {
                        let top = ffi::lua_gettop(co.th);
                        if top > 0 {
                            ffi::lua_replace(co.th, 1);
                            ffi::lua_settop(co.th, 1);
                            if ffi::lua_type(co.th, 1) == ffi::LUA_TSTRING {
                                let m =
                                    String::from_utf8_lossy(raw::to_bytes(co.th, 1)).into_owned();
                                ffi::lua_settop(co.th, 0);
                                raw::push_bytes(co.th, strip_position(&m).as_bytes());
                            }
                        }
                    }
                }
                self.finished(tid, false);
            }
        }
    }

    /// set_by_lua's value: the entry function's first result as a string.
    fn keep_set_result(&self) {
        let Some(req) = &self.req else { return };
        let co = self.threads.borrow()[0].co;
        // SAFETY: the entry coroutine just returned; its results are on its stack.
        let v = unsafe {
            match ffi::lua_type(co.th, 1) {
                ffi::LUA_TSTRING | ffi::LUA_TNUMBER => raw::to_bytes(co.th, 1).to_vec(),
                _ => Vec::new(),
            }
        };
        *req.lua_arg.borrow_mut() = crate::request::LuaArg::Set(vec![v]);
    }

    fn finished(&self, tid: usize, ok: bool) {
        let parent = {
            let mut ts = self.threads.borrow_mut();
            ts[tid].state = State_::Dead { ok, waited: false };
            ts[tid].parent
        };
        if tid == 0 {
            return;
        }
        let wakes = matches!(&self.threads.borrow()[parent].state, State_::WaitingFor(ids) if ids.contains(&tid));
        if wakes {
            self.threads.borrow_mut()[parent].state = State_::Alive;
            self.ready
                .borrow_mut()
                .push_back((parent, Wake::ThreadDone(tid)));
        }
    }

    /// Push thread `tid`'s results (`true, ...` or `false, err`) on `to` and mark it waited.
    ///
    /// # Safety
    /// `to` is a coroutine with room on its stack; `tid` is dead.
    unsafe fn take_results(&self, tid: usize, to: State) -> c_int {
        let (co, ok) = {
            let ts = self.threads.borrow();
            match ts[tid].state {
                State_::Dead { ok, .. } => (ts[tid].co, ok),
                _ => return 0,
            }
        };
        let n = ffi::lua_gettop(co.th);
        ffi::lua_checkstack(to, n + 1);
        ffi::lua_pushboolean(to, ok as c_int);
        ffi::lua_xmove(co.th, to, n);
        self.threads.borrow_mut()[tid].state = State_::Dead { ok, waited: true };
        n + 1
    }

    /// `ngx.thread.spawn`: start `f` (with its arguments, the top `nargs + 1`
    /// values of the caller's stack) as a new light thread and run it until it
    /// first yields. Returns the new thread's index.
    ///
    /// # Safety
    /// `from` is the calling coroutine's state with the function and args on top.
    pub unsafe fn spawn(self: &Rc<Task>, vm: &Vm, from: State, nargs: c_int) -> usize {
        let parent = current_task().map(|(_, t)| t).unwrap_or(0);
        let co = vm.co();
        ffi::lua_settop(co.th, 0);
        ffi::lua_xmove(from, co.th, nargs + 1);
        let tid = self.add(co, parent);
        self.resume(vm, tid, nargs);
        tid
    }

    /// `ngx.thread.wait(t...)` from thread `me`: results now, or None to yield.
    ///
    /// # Safety
    /// `me_state` is the running coroutine's state.
    pub unsafe fn wait(&self, me: usize, ids: Vec<usize>, me_state: State) -> Option<c_int> {
        if let Some(&done) = ids.iter().find(|&&i| {
            matches!(
                self.threads.borrow()[i].state,
                State_::Dead { waited: false, .. }
            )
        }) {
            return Some(self.take_results(done, me_state));
        }
        self.threads.borrow_mut()[me].state = State_::WaitingFor(ids);
        None
    }

    pub fn thread_state(&self, tid: usize) -> State {
        self.threads.borrow()[tid].co.th
    }

    /// A light thread called ngx.exit (the task is ending).
    pub fn exiting(&self) -> bool {
        self.exit.get().is_some()
    }

    /// Whether thread `tid` already ended (waited or not) or was killed.
    pub fn ended(&self, tid: usize) -> bool {
        matches!(
            self.threads.borrow()[tid].state,
            State_::Dead { .. } | State_::Gone
        )
    }

    /// `ngx.thread.kill`: cancel the thread's wait and forget it.
    pub fn kill(&self, vm: &Vm, tid: usize) {
        let mut ts = self.threads.borrow_mut();
        // its pending wait (if any) finishes unobserved; dropping the task's waits cancels it
        ts[tid].gen += 1;
        ts[tid].state = State_::Gone;
        vm.release(ts[tid].co);
    }

    fn all_done(&self) -> bool {
        self.threads
            .borrow()
            .iter()
            .all(|t| matches!(t.state, State_::Dead { .. } | State_::Gone))
    }

    /// Give every coroutine back: finished ones to the cache, the rest released.
    pub fn own_socket(&self, s: &Rc<ngx_cosocket::TcpSock>) {
        self.sockets.borrow_mut().push(Rc::downgrade(s));
    }

    fn cleanup(&self, vm: &Vm) {
        for s in self
            .sockets
            .borrow_mut()
            .drain(..)
            .filter_map(|w| w.upgrade())
        {
            if s.is_connected() {
                let _ = s.close();
            }
        }
        if let Some(r) = self.on_abort.take() {
            // SAFETY: r is a registry reference owned by this task.
            unsafe { ffi::luaL_unref(vm.main_state(), ffi::LUA_REGISTRYINDEX, r) };
        }
        for t in self.threads.borrow_mut().iter_mut() {
            match t.state {
                State_::Dead { ok: true, .. } => vm.recycle(t.co),
                State_::Gone => {}
                _ => vm.release(t.co),
            }
            t.state = State_::Gone;
        }
    }
}

/// `content_by_lua(nginx.conf:12):3: boom` -> `boom` (what ngx.thread.wait returns).
fn strip_position(m: &str) -> &str {
    if let Some(i) = m.find(": ") {
        let head = &m[..i];
        if let Some(j) = head.rfind(':') {
            if !head[j + 1..].is_empty() && head[j + 1..].bytes().all(|b| b.is_ascii_digit()) {
                return &m[i + 2..];
            }
        }
    }
    m
}

/// Resolves when the client closes its side of the connection while the
/// handler runs (lua_check_client_abort); never when bytes of a pipelined
/// request arrive instead.
async fn client_gone(task: &Task) {
    let Some(req) = &task.req else {
        return std::future::pending().await;
    };
    let s = &req.conn.stream;
    loop {
        if s.readable().await.is_err() {
            return;
        }
        let mut b = [0u8; 1];
        match s.peek(&mut b).await {
            Ok(0) => return,
            Ok(_) => return std::future::pending().await,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return,
        }
    }
}

/// Push the values a resumer built onto `c`'s stack, through the VM's transfer table.
fn push_values(vm: &Vm, c: Co, vals: MultiValue) -> mlua::Result<c_int> {
    let n = vals.len();
    for (i, v) in vals.into_iter().enumerate() {
        vm.xfer.raw_set(i + 1, v)?;
    }
    // SAFETY: c is suspended; we push the transfer table, its n values, then remove the table.
    unsafe {
        ffi::lua_settop(c.th, 0);
        if n == 0 {
            return Ok(0);
        }
        if ffi::lua_checkstack(c.th, n as c_int + 2) == 0 {
            return Err(mlua::Error::runtime("too many values to resume with"));
        }
        ffi::lua_rawgeti(
            c.th,
            ffi::LUA_REGISTRYINDEX,
            vm.xfer_ref as ffi::lua_Integer,
        );
        for i in 1..=n {
            ffi::lua_rawgeti(c.th, 1, i as ffi::lua_Integer);
            ffi::lua_pushnil(c.th);
            ffi::lua_rawseti(c.th, 1, i as ffi::lua_Integer);
        }
        ffi::lua_remove(c.th, 1);
    }
    Ok(n as c_int)
}

/// Run handler `key` (see `Vm::prepare`) as a request's entry thread until it
/// and its light threads finish, one of them exits, or the entry thread fails.
pub async fn run(vm: &Vm, req: Option<Rc<Req>>, key: i64, isolated: bool) -> Outcome {
    let phase = req.as_ref().map(|r| r.phase.get()).unwrap_or(Phase::Timer);
    run_phase(vm, req, key, isolated, phase).await
}

/// `run` for a given phase (a request's phases each run as their own task).
pub async fn run_phase(
    vm: &Vm,
    req: Option<Rc<Req>>,
    key: i64,
    isolated: bool,
    phase: Phase,
) -> Outcome {
    // one global environment per request, shared by all its phases
    let (env, own_env) = match (&req, isolated) {
        (_, false) => (0, false),
        (Some(r), true) => {
            if r.env_ref.get() == 0 {
                r.env_ref.set(vm.new_env());
            }
            (r.env_ref.get(), false)
        }
        (None, true) => (vm.new_env(), true),
    };
    let task = Task::new(req, phase);
    let c = vm.co();
    // SAFETY: c comes from vm.co() and is not running.
    unsafe { vm.push_entry(c, key, env) };
    let o = run_task(vm, &task, c, 2).await;
    if own_env {
        vm.unref(env);
    }
    o
}

/// Drive `task` whose entry coroutine `entry` has `nargs` arguments pushed.
pub async fn run_task(vm: &Vm, task: &Rc<Task>, entry: Co, nargs: c_int) -> Outcome {
    let _ = take_pending();
    let mut watching_abort = task.req.as_ref().is_some_and(|r| r.loc.check_client_abort);
    let tid = task.add(entry, 0);
    task.resume(vm, tid, nargs);
    // created on the first wait: a handler that never waits allocates none of this
    let mut waits: Option<FuturesUnordered<Completion>> = None;
    loop {
        // run everything that became ready without waiting
        loop {
            let next = task.ready.borrow_mut().pop_front();
            let Some((tid, wake)) = next else { break };
            if task.exit.get().is_some() || task.error.borrow().is_some() {
                break;
            }
            let co = task.threads.borrow()[tid].co;
            let nargs = match wake {
                // SAFETY: the waiter is suspended in ngx.thread.wait; clear what it yielded first.
                Wake::ThreadDone(done) => unsafe {
                    ffi::lua_settop(co.th, 0);
                    task.take_results(done, co.th)
                },
                Wake::Values(resumer) => {
                    match resumer(&vm.lua).and_then(|v| push_values(vm, co, v)) {
                        Ok(n) => n,
                        Err(e) => {
                            *task.error.borrow_mut() = Some(format_error(&e));
                            break;
                        }
                    }
                }
            };
            task.resume(vm, tid, nargs);
        }
        if let Some(code) = task.exit.get() {
            task.cleanup(vm);
            return Outcome::Exit(code);
        }
        if let Some(msg) = task.error.borrow_mut().take() {
            task.cleanup(vm);
            return Outcome::Error(msg);
        }
        if task.all_done() {
            task.cleanup(vm);
            return Outcome::Done;
        }
        let waits = waits.get_or_insert_with(FuturesUnordered::new);
        waits.extend(task.new_waits.borrow_mut().drain(..));
        let next = if watching_abort {
            tokio::select! {
                n = waits.next() => n,
                _ = client_gone(task) => {
                    watching_abort = false;
                    match task.on_abort.take() {
                        // the callback runs as a light thread; the request goes on
                        Some(r) => {
                            // SAFETY: r anchors the callback in the registry; the new thread takes it.
                            unsafe {
                                let co = vm.co();
                                ffi::lua_settop(co.th, 0);
                                ffi::lua_rawgeti(co.th, ffi::LUA_REGISTRYINDEX, r as ffi::lua_Integer);
                                ffi::luaL_unref(vm.main_state(), ffi::LUA_REGISTRYINDEX, r);
                                let tid = task.add(co, 0);
                                task.resume(vm, tid, 0);
                            }
                            continue;
                        }
                        None => {
                            // nginx finalizes an aborted request with 499
                            task.cleanup(vm);
                            return Outcome::Exit(499);
                        }
                    }
                }
            }
        } else {
            waits.next().await
        };
        match next {
            Some((tid, gen, resumer)) => {
                let live = {
                    let t = &task.threads.borrow()[tid];
                    t.gen == gen && matches!(t.state, State_::Alive)
                };
                if live {
                    task.ready
                        .borrow_mut()
                        .push_back((tid, Wake::Values(resumer)));
                }
            }
            None => {
                // every thread waits on another: nothing can ever wake them
                task.cleanup(vm);
                return Outcome::Error("lua light threads wait on each other forever".into());
            }
        }
    }
}

/// The error message of a failed coroutine plus OpenResty's traceback format.
///
/// # Safety
/// `th` is a coroutine whose last resume failed; `main` is the VM's main state.
unsafe fn failure(main: State, th: State) -> String {
    // a dead coroutine cannot run metamethods: inspect the error object on the main state
    ffi::lua_xmove(th, main, 1);
    let msg = match ffi::lua_type(main, -1) {
        ffi::LUA_TSTRING | ffi::LUA_TNUMBER => {
            String::from_utf8_lossy(raw::to_bytes(main, -1)).into_owned()
        }
        // errors raised by mlua callbacks are userdata that render themselves
        ffi::LUA_TUSERDATA if ffi::luaL_getmetafield(main, -1, c"__tostring".as_ptr()) != 0 => {
            ffi::lua_pop(main, 1);
            let s = ffi::luaL_tolstring(main, -1, std::ptr::null_mut());
            let m = std::ffi::CStr::from_ptr(s).to_string_lossy().into_owned();
            ffi::lua_pop(main, 1);
            // mlua renders "runtime error: <msg>\n<its own traceback>": keep the message
            let m = m
                .split("\nstack traceback:")
                .next()
                .unwrap_or(&m)
                .trim_end()
                .to_string();
            m.strip_prefix("runtime error: ")
                .map(str::to_string)
                .unwrap_or(m)
        }
        // lua_tostring gives NULL for other values: OpenResty says "unknown reason"
        _ => "unknown reason".to_string(),
    };
    ffi::lua_pop(main, 1);
    format!("{msg}\n{}", traceback(th))
}

/// `stack traceback:\ncoroutine 0:\n\t...` like ngx_http_lua_thread_traceback.
///
/// # Safety
/// `th` is a valid coroutine state that is not running.
pub unsafe fn traceback(th: State) -> String {
    let mut out = String::from("stack traceback:\ncoroutine 0:");
    let mut frames = Vec::new();
    let mut level = 0;
    let mut ar: ffi::lua_Debug = std::mem::zeroed();
    while ffi::lua_getstack(th, level, &mut ar) == 1 && level < 22 {
        ffi::lua_getinfo(th, c"Snl".as_ptr(), &mut ar);
        let cs = |p: *const std::ffi::c_char| {
            if p.is_null() {
                String::new()
            } else {
                std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
            }
        };
        let short = std::ffi::CStr::from_ptr(ar.short_src.as_ptr())
            .to_string_lossy()
            .into_owned();
        frames.push((
            short,
            ar.currentline,
            cs(ar.namewhat),
            cs(ar.name),
            cs(ar.what),
            ar.linedefined,
        ));
        level += 1;
    }
    let last = frames.len().saturating_sub(1);
    for (i, (short, line, namewhat, name, what, defined)) in frames.into_iter().enumerate() {
        out.push_str("\n\t");
        out.push_str(&short);
        out.push(':');
        if line > 0 {
            out.push_str(&format!("{line}:"));
        }
        if !namewhat.is_empty() {
            out.push_str(&format!(" in function '{name}'"));
        } else if what == "main" || (i == last && what == "Lua") {
            // the handler, tail-called by the entry trampoline, is the chunk's main body
            out.push_str(" in main chunk");
        } else if what == "C" || what == "tail" {
            out.push_str(" ?");
        } else {
            out.push_str(&format!(" in function <{short}:{defined}>"));
        }
    }
    out
}

/// Render an mlua error as OpenResty logs it: the message, then the traceback.
pub fn format_error(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, traceback } => {
            let mut root = cause.as_ref();
            while let mlua::Error::CallbackError { cause, .. } = root {
                root = cause.as_ref();
            }
            format!("{}\n{}", error_message(root), traceback)
        }
        other => error_message(other),
    }
}

/// The message of an error without mlua's decorations.
pub fn error_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::CallbackError { cause, .. } => error_message(cause),
        mlua::Error::SyntaxError { message, .. } => message.clone(),
        mlua::Error::ExternalError(x) => x.to_string(),
        other => other.to_string(),
    }
}
