//! The store under contention: N threads doing what a request does with a
//! shared dict, against one `Mutex<HashMap>` as the baseline (nginx's own
//! dicts take one lock per dict, which this models).
//!
//! `cargo bench -p ngx-shdict` (results in target/criterion).

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ngx_shdict::{Mode, ShDict, Value, ValueRef};

const NOW: u64 = 1_700_000_000_000;

/// Run `op(thread, i)` `iters` times spread over `threads` threads; the wall time.
fn parallel(threads: usize, iters: u64, op: impl Fn(usize, u64) + Sync) -> Duration {
    let per = iters.div_ceil(threads as u64);
    let barrier = Barrier::new(threads + 1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let (op, barrier) = (&op, &barrier);
            s.spawn(move || {
                barrier.wait();
                for i in 0..per {
                    op(t, i);
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        // the scope joins every thread before returning
        start
    })
    .elapsed()
}

fn keys(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("key:{i}").into_bytes()).collect()
}

/// The bench case of bench/cases/shdict: a get and an incr per request, on a
/// few hot keys shared by all threads.
fn get_incr(c: &mut Criterion) {
    let mut g = c.benchmark_group("get+incr");
    g.throughput(Throughput::Elements(1));
    let ks = keys(64);
    for threads in [1, 2, 4] {
        let d = Arc::new(ShDict::new("bench", 10 << 20));
        g.bench_function(BenchmarkId::new("shdict", threads), |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, |t, i| {
                    let k = &ks[(i as usize * 7 + t) % ks.len()];
                    d.get(k, false, NOW, |f| {
                        black_box(f.map(|f| matches!(f.value, ValueRef::Num(_))))
                    });
                    black_box(d.incr(k, 1.0, Some(0.0), 0, NOW).ok());
                })
            })
        });
        let m: Arc<Mutex<HashMap<Vec<u8>, f64>>> = Default::default();
        g.bench_function(BenchmarkId::new("mutex-hashmap", threads), |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, |t, i| {
                    let k = &ks[(i as usize * 7 + t) % ks.len()];
                    black_box(m.lock().unwrap().get(k.as_slice()).copied());
                    *m.lock().unwrap().entry(k.clone()).or_insert(0.0) += 1.0;
                })
            })
        });
    }
    g.finish();
}

/// A cache at capacity: every set of a new key evicts the least recently used.
fn set_full(c: &mut Criterion) {
    let mut g = c.benchmark_group("set-evicting");
    g.throughput(Throughput::Elements(1));
    let ks = keys(100_000);
    let v = [b'v'; 100];
    for threads in [1, 2, 4] {
        // 1m holds about 4,000 of these entries: most sets evict
        let d = Arc::new(ShDict::new("bench", 1 << 20));
        g.bench_function(BenchmarkId::new("shdict", threads), |b| {
            b.iter_custom(|iters| {
                parallel(threads, iters, |t, i| {
                    let k = &ks[(i as usize * 4 + t) % ks.len()];
                    black_box(d.store(Mode::Set, k, Some(Value::Str(&v)), 0, 0, NOW).ok());
                })
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20);
    targets = get_incr, set_full
}
criterion_main!(benches);
