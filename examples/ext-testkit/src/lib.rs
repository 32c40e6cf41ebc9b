//! `require "testkit"`: one function per path through the extension API,
//! including the unhappy ones (completions fired late, never, or dropped;
//! futures cancelled; panics). The tests in `tests/` drive it through a
//! real server.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use moonwire::ext::{Args, Completion, Error, Module, Value};

/// Completions kept unfired by `never`, until `release` fires them.
static KEPT: Mutex<Vec<Completion>> = Mutex::new(Vec::new());
/// Futures of `sleep` dropped before they finished.
static SLEEPS_DROPPED: AtomicU64 = AtomicU64::new(0);

fn millis(a: &Args, n: usize) -> Result<Duration, Error> {
    let ms = a.integer(n)?;
    if ms < 0 {
        return Err(a.arg_error(n, "negative delay"));
    }
    Ok(Duration::from_millis(ms as u64))
}

/// Fire `c` with `r` from a new (foreign) thread after `d`.
fn fire_later(d: Duration, c: Completion, r: Result<Vec<Value>, String>) {
    std::thread::spawn(move || {
        std::thread::sleep(d);
        c.complete(r);
    });
}

fn keep(c: Completion) {
    if let Ok(mut k) = KEPT.lock() {
        k.push(c);
    }
}

/// Counts a `sleep` future dropped before its end.
struct SleepGuard(bool);

impl Drop for SleepGuard {
    fn drop(&mut self) {
        if !self.0 {
            SLEEPS_DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

pub fn module() -> Module {
    Module::new("testkit")
        .function("echo", |a| Ok(a.into_vec()))
        .function("fail", |a| Err(Error::fail(a.text(1)?)))
        .function("raise", |a| Err(Error::raise(a.text(1)?)))
        .function("add", |a| Ok(vec![(a.number(1)? + a.number(2)?).into()]))
        .function("panic", |_| panic!("testkit asked to panic"))
        .function("release", |a| {
            // fire every kept completion: returns how many there were and how many had a caller
            let kept = std::mem::take(&mut *KEPT.lock().map_err(|_| Error::fail("poisoned"))?);
            let n = kept.len() as i64;
            let delivered = kept
                .into_iter()
                .map(|c| c.ok(a.clone().into_vec()))
                .filter(|&d| d)
                .count();
            Ok(vec![Value::Int(n), Value::Int(delivered as i64)])
        })
        .function("stats", |_| {
            let mut s = moonwire::ext::stats().to_value();
            if let Value::Map(m) = &mut s {
                m.push((
                    "sleeps_dropped".into(),
                    Value::Int(SLEEPS_DROPPED.load(Ordering::Relaxed) as i64),
                ));
                let kept = KEPT.lock().map(|k| k.len()).unwrap_or(0);
                m.push(("kept".into(), Value::Int(kept as i64)));
            }
            Ok(vec![s])
        })
        .callback_function("later", |a, c| {
            let d = millis(&a, 1)?;
            let vals = a.into_vec().split_off(1);
            fire_later(d, c, Ok(vals));
            Ok(())
        })
        .callback_function("later_fail", |a, c| {
            let d = millis(&a, 1)?;
            fire_later(d, c, Err(a.text(2)?));
            Ok(())
        })
        .callback_function("instant", |a, c| {
            c.ok(a.into_vec());
            Ok(())
        })
        .callback_function("drop", |_, c| {
            drop(c);
            Ok(())
        })
        .callback_function("drop_later", |a, c| {
            let d = millis(&a, 1)?;
            std::thread::spawn(move || {
                std::thread::sleep(d);
                drop(c);
            });
            Ok(())
        })
        .callback_function("refuse", |a, _c| Err(Error::fail(a.text(1)?)))
        .callback_function("never", |_, c| {
            keep(c);
            Ok(())
        })
        .async_function("sleep", |a| {
            let d = millis(&a, 1)?;
            let vals = a.into_vec().split_off(1);
            // created now, not on the first poll: a future dropped unpolled counts too
            let g = SleepGuard(false);
            Ok(async move {
                // moved in whole (a closure would capture only the flag)
                let mut g = g;
                tokio::time::sleep(d).await;
                g.0 = true;
                Ok(vals)
            })
        })
        .async_function("sleep_fail", |a| {
            let d = millis(&a, 1)?;
            let msg = a.text(2)?;
            Ok(async move {
                tokio::time::sleep(d).await;
                Err(msg)
            })
        })
}

/// `require "testkit.timed"`: the same waits, bounded by a 200 ms timeout.
pub fn timed_module() -> Module {
    Module::new("testkit.timed")
        .timeout(Duration::from_millis(200))
        .callback_function("never", |_, c| {
            keep(c);
            Ok(())
        })
        .callback_function("later", |a, c| {
            let d = millis(&a, 1)?;
            fire_later(d, c, Ok(vec!["in time".into()]));
            Ok(())
        })
        .async_function("sleep", |a| {
            let d = millis(&a, 1)?;
            let g = SleepGuard(false);
            Ok(async move {
                // moved in whole (a closure would capture only the flag)
                let mut g = g;
                tokio::time::sleep(d).await;
                g.0 = true;
                Ok(vec!["in time".into()])
            })
        })
}
