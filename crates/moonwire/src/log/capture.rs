//! `lua_capture_error_log SIZE`: a ring buffer of the latest error-log lines,
//! read (and consumed) by `ngx.errlog.get_logs`.
//!
//! One ring per process (nginx has one per worker process): every worker
//! thread writes to it and `get_logs` in any worker consumes from it.
//! Capacity is counted as lua-nginx-module counts it, the line's bytes plus
//! a 16-byte header per entry, and the oldest lines make room for new ones.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::Level;

/// What lua-nginx-module's ring spends on each entry besides the text.
const HEADER: usize = 16;

/// One captured line: level, time (seconds, millisecond precision) and the
/// whole log line without its newline.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub level: Level,
    pub time: f64,
    pub msg: Vec<u8>,
}

#[derive(Debug)]
struct Ring {
    size: usize,
    used: usize,
    filter: Level,
    entries: VecDeque<Entry>,
}

impl Ring {
    fn push(&mut self, e: Entry) {
        let need = e.msg.len() + HEADER;
        if need > self.size {
            return;
        }
        while self.used + need > self.size {
            match self.entries.pop_front() {
                Some(old) => self.used -= old.msg.len() + HEADER,
                None => break,
            }
        }
        self.used += need;
        self.entries.push_back(e);
    }

    fn pop(&mut self) -> Option<Entry> {
        let e = self.entries.pop_front()?;
        self.used -= e.msg.len() + HEADER;
        Some(e)
    }
}

/// Set while a ring exists, so that logging without one costs one load.
static ON: AtomicBool = AtomicBool::new(false);
static RING: Mutex<Option<Ring>> = Mutex::new(None);

/// Install a fresh ring of `size` bytes, or none (config load and reload:
/// a new configuration starts with an empty ring, as a new nginx cycle does).
pub fn configure(size: Option<usize>) {
    let ring = size.map(|size| Ring {
        size,
        used: 0,
        filter: Level::Debug,
        entries: VecDeque::new(),
    });
    if let Ok(mut g) = RING.lock() {
        *g = ring;
        ON.store(size.is_some(), Ordering::Release);
    }
}

/// Whether `lua_capture_error_log` is in effect.
pub fn enabled() -> bool {
    ON.load(Ordering::Acquire)
}

/// Keep a line that the error log has just accepted (`line` without its newline).
pub fn capture(level: Level, line: &[u8]) {
    if !enabled() {
        return;
    }
    if let Ok(mut g) = RING.lock() {
        if let Some(r) = g.as_mut() {
            if level <= r.filter {
                r.push(Entry {
                    level,
                    time: ngx_util::now(),
                    msg: line.to_vec(),
                });
            }
        }
    }
}

/// `errlog.set_filter_level`: lines above `level` are not captured any more.
/// False when there is no ring.
pub fn set_filter(level: Level) -> bool {
    match RING.lock() {
        Ok(mut g) => match g.as_mut() {
            Some(r) => {
                r.filter = level;
                true
            }
            None => false,
        },
        Err(_) => false,
    }
}

/// Take up to `max` of the oldest lines; `None` when there is no ring.
pub fn take(max: usize) -> Option<Vec<Entry>> {
    let mut g = RING.lock().ok()?;
    let r = g.as_mut()?;
    let mut out = Vec::with_capacity(max.min(r.entries.len()));
    while out.len() < max {
        match r.pop() {
            Some(e) => out.push(e),
            None => break,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(size: usize) -> Ring {
        Ring {
            size,
            used: 0,
            filter: Level::Debug,
            entries: VecDeque::new(),
        }
    }

    fn entry(msg: &str) -> Entry {
        Entry {
            level: Level::Error,
            time: 0.0,
            msg: msg.as_bytes().to_vec(),
        }
    }

    #[test]
    fn oldest_lines_make_room() {
        let mut r = ring(3 * (HEADER + 10));
        for m in ["aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "dddddddddd"] {
            r.push(entry(m));
        }
        let left: Vec<_> = std::iter::from_fn(|| r.pop()).map(|e| e.msg).collect();
        assert_eq!(
            left,
            [
                b"bbbbbbbbbb".to_vec(),
                b"cccccccccc".to_vec(),
                b"dddddddddd".to_vec()
            ]
        );
        assert_eq!(r.used, 0);
    }

    #[test]
    fn a_line_larger_than_the_ring_is_dropped() {
        let mut r = ring(HEADER + 4);
        r.push(entry("abcd"));
        r.push(entry("abcde"));
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.pop().map(|e| e.msg), Some(b"abcd".to_vec()));
    }

    #[test]
    fn a_big_line_evicts_several_small_ones() {
        let mut r = ring(4 * HEADER + 8);
        for _ in 0..4 {
            r.push(entry("ab"));
        }
        r.push(entry(&"x".repeat(2 * HEADER + 8)));
        assert_eq!(r.entries.len(), 1);
        assert_eq!(r.used, 3 * HEADER + 8);
    }
}
