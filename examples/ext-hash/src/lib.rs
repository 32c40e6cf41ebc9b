//! `require "hash"`: Argon2id password hashing for moonwire handlers.
//!
//! Hashing a password costs tens of milliseconds of CPU on purpose, far too
//! long for a worker's event loop. [`Hasher`] stands for any library that
//! runs work on threads of its own and reports through a callback; the
//! module glue hands each call's [`Completion`] to that callback, so the
//! request resumes on its worker when the hash is ready while the worker
//! serves other requests.
//!
//! ```lua
//! local hash = require "hash"
//! local phc, err = hash.hash(password)             -- "$argon2id$v=19$m=19456,t=2,p=1$..."
//! local ok, err = hash.verify(password, phc)       -- true / false, or nil, err
//! local phc = hash.hash(password, { m_cost = 4096, t_cost = 1 })
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use moonwire::ext::{Args, Completion, Error, Module, Value};

type Job = Box<dyn FnOnce() + Send>;

/// Argon2id on a fixed set of threads with a bounded queue; results go to
/// the caller's callback, on a pool thread.
pub struct Hasher {
    queue: SyncSender<Job>,
    queued: Arc<AtomicU64>,
    hashed: Arc<AtomicU64>,
}

/// The queue is full: the caller should fail fast rather than pile up work.
#[derive(Debug)]
pub struct QueueFull;

impl Hasher {
    pub fn new(threads: usize, max_queue: usize) -> Hasher {
        let (tx, rx) = mpsc::sync_channel::<Job>(max_queue);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("hash-{i}"))
                .spawn(move || loop {
                    // the lock is held only while taking a job, not while running it
                    let job = match rx.lock() {
                        Ok(r) => r.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                })
                .expect("cannot start a hash thread");
        }
        Hasher {
            queue: tx,
            queued: Arc::new(AtomicU64::new(0)),
            hashed: Arc::new(AtomicU64::new(0)),
        }
    }

    fn submit(&self, job: impl FnOnce() + Send + 'static) -> Result<(), QueueFull> {
        let (queued, hashed) = (self.queued.clone(), self.hashed.clone());
        self.queued.fetch_add(1, Ordering::Relaxed);
        let r = self.queue.try_send(Box::new(move || {
            job();
            queued.fetch_sub(1, Ordering::Relaxed);
            hashed.fetch_add(1, Ordering::Relaxed);
        }));
        match r {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                Err(QueueFull)
            }
        }
    }

    /// Hash `password` with a random salt; `done` gets the PHC string.
    pub fn hash(
        &self,
        password: Vec<u8>,
        params: Params,
        done: impl FnOnce(Result<String, String>) + Send + 'static,
    ) -> Result<(), QueueFull> {
        self.submit(move || {
            let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
            let a = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
            done(
                a.hash_password(&password, &salt)
                    .map(|h| h.to_string())
                    .map_err(|e| e.to_string()),
            )
        })
    }

    /// Check `password` against a PHC string; `done` gets whether it matches.
    pub fn verify(
        &self,
        password: Vec<u8>,
        phc: String,
        done: impl FnOnce(Result<bool, String>) + Send + 'static,
    ) -> Result<(), QueueFull> {
        self.submit(move || {
            let r = PasswordHash::new(&phc)
                .map_err(|e| format!("invalid hash: {e}"))
                .map(|h| Argon2::default().verify_password(&password, &h).is_ok());
            done(r)
        })
    }

    /// Jobs waiting or running, and jobs finished.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.queued.load(Ordering::Relaxed),
            self.hashed.load(Ordering::Relaxed),
        )
    }
}

/// Argon2 parameters from an optional `{ m_cost, t_cost, p_cost }` table.
fn params(a: &Args, n: usize) -> Result<Params, Error> {
    let d = Params::default();
    let Some(opts) = a.opt_table(n)? else {
        return Ok(d);
    };
    let get = |k: &str, default: u32| -> Result<u32, Error> {
        match opts.get(k) {
            None | Some(Value::Nil) => Ok(default),
            Some(v) => v
                .as_i64()
                .and_then(|x| u32::try_from(x).ok())
                .ok_or_else(|| a.arg_error(n, format_args!("bad \"{k}\" option"))),
        }
    };
    Params::new(
        get("m_cost", d.m_cost())?,
        get("t_cost", d.t_cost())?,
        get("p_cost", d.p_cost())?,
        None,
    )
    .map_err(|e| a.arg_error(n, e))
}

fn queue_full() -> Error {
    Error::fail("hash queue full")
}

/// The `hash` module, hashing on `threads` threads of its own.
pub fn module(threads: usize) -> Module {
    let hasher = Arc::new(Hasher::new(threads, 4096));
    let (h1, h2, h3) = (hasher.clone(), hasher.clone(), hasher);
    Module::new("hash")
        .callback_function("hash", move |a, c: Completion| {
            let password = a.string(1)?;
            let params = params(&a, 2)?;
            h1.hash(password, params, move |r| {
                c.complete(r.map(|phc| vec![phc.into()]));
            })
            .map_err(|_| queue_full())
        })
        .callback_function("verify", move |a, c: Completion| {
            let password = a.string(1)?;
            let phc = a.text(2)?;
            h2.verify(password, phc, move |r| {
                c.complete(r.map(|ok| vec![ok.into()]));
            })
            .map_err(|_| queue_full())
        })
        .function("stats", move |_| {
            let (queued, hashed) = h3.counts();
            let mut s = moonwire::ext::stats().to_value();
            if let Value::Map(m) = &mut s {
                m.push(("queued".into(), Value::Int(queued as i64)));
                m.push(("hashed".into(), Value::Int(hashed as i64)));
            }
            Ok(vec![s])
        })
}
