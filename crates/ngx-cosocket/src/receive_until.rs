//! `tcpsock:receiveuntil(pattern, {inclusive = ...})` as a pure, incremental
//! matcher: bytes go in, data known to precede the pattern comes out.
//!
//! OpenResty compiles the pattern into a DFA with hand-built "recovering"
//! edges; this is plain Knuth–Morris–Pratt, which gives the same answers and
//! is correct for every self-overlapping pattern (`--abc--abd`, `aab`, ...).
//!
//! Iterator semantics (README `tcpsock:receiveuntil`):
//! * `reader()` returns everything before the next occurrence of the pattern
//!   (plus the pattern itself when `inclusive`), then searches afresh on the
//!   next call.
//! * `reader(size)` returns at most `size` bytes per call. The call that
//!   reaches the pattern returns the remaining data (possibly `""`); the call
//!   after it returns `nil` without error, which ends a `while` loop, and the
//!   call after that starts the next search.
//! * On error the caller takes [`UntilMatcher::take_partial`]: the data known
//!   to precede the pattern. Bytes that might start the pattern stay in the
//!   matcher's state, exactly as OpenResty keeps them in `cp->state`.

use std::cell::RefCell;

use bytes::{Bytes, BytesMut};

use crate::error::SockError;

/// What one iterator call produced from the input it was shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// The call is complete: return this data.
    Data(Bytes),
    /// The previous sized call delivered the last piece before the pattern:
    /// the iterator returns `nil, nil` and the next call searches afresh.
    End,
    /// All input was consumed without completing the call; read more.
    NeedMore,
}

/// The incremental matcher. Pure: it does no I/O and never blocks.
#[derive(Debug, Clone)]
pub struct UntilMatcher {
    pattern: Box<[u8]>,
    /// `border[i]`: length of the longest proper prefix of `pattern[..=i]`
    /// that is also its suffix (the KMP failure function).
    border: Box<[usize]>,
    inclusive: bool,
    /// How many bytes of the pattern the most recent input matches.
    state: usize,
    /// Data confirmed to precede the pattern, not yet returned.
    out: BytesMut,
    /// The pattern was seen; `out` holds everything up to it.
    found: bool,
    /// A sized call returned the last chunk; the next call yields `End`.
    ended: bool,
}

impl UntilMatcher {
    /// Fails with `pattern is empty` as OpenResty does.
    pub fn new(pattern: &[u8], inclusive: bool) -> Result<Self, SockError> {
        if pattern.is_empty() {
            return Err(SockError::PatternEmpty);
        }
        Ok(UntilMatcher {
            border: borders(pattern),
            pattern: pattern.into(),
            inclusive,
            state: 0,
            out: BytesMut::new(),
            found: false,
            ended: false,
        })
    }

    pub fn pattern(&self) -> &[u8] {
        &self.pattern
    }

    pub fn inclusive(&self) -> bool {
        self.inclusive
    }

    /// Whether the pattern has been seen and its data not fully returned.
    pub fn is_found(&self) -> bool {
        self.found
    }

    /// Confirmed data waiting to be returned.
    pub fn pending(&self) -> &[u8] {
        &self.out
    }

    /// Runs the automaton over `input` until the pattern completes, the
    /// pending output reaches `limit` bytes, or the input runs out. Returns
    /// how many input bytes were consumed; the rest belongs to whoever reads
    /// the stream next.
    pub fn feed(&mut self, input: &[u8], limit: Option<usize>) -> usize {
        let mut i = 0;
        while i < input.len() && !self.found {
            let room = match limit {
                Some(l) if self.out.len() >= l => break,
                Some(l) => l - self.out.len(),
                None => usize::MAX,
            };
            if self.state == 0 {
                // Fast path: bytes that cannot start the pattern are data.
                let end = input.len().min(i.saturating_add(room));
                let window = &input[i..end];
                match memchr::memchr(self.pattern[0], window) {
                    Some(0) => {}
                    Some(k) => {
                        self.out.extend_from_slice(&window[..k]);
                        i += k;
                        continue;
                    }
                    None => {
                        self.out.extend_from_slice(window);
                        i = end;
                        continue;
                    }
                }
            }
            self.advance(input[i]);
            i += 1;
            if self.state == self.pattern.len() {
                self.found = true;
                self.state = 0;
                if self.inclusive {
                    self.out.extend_from_slice(&self.pattern);
                }
            }
        }
        i
    }

    fn advance(&mut self, c: u8) {
        loop {
            if self.pattern[self.state] == c {
                self.state += 1;
                return;
            }
            if self.state == 0 {
                self.out.extend_from_slice(&[c]);
                return;
            }
            // The held bytes are pattern[..state]; falling back to the border
            // releases its oldest bytes as data and keeps the rest matched.
            let keep = self.border[self.state - 1];
            self.out
                .extend_from_slice(&self.pattern[..self.state - keep]);
            self.state = keep;
        }
    }

    /// One iterator call over the input available now. `size == 0` means the
    /// call has no size argument. Returns the consumed byte count and what
    /// the call produced.
    pub fn step(&mut self, input: &[u8], size: usize) -> (usize, Step) {
        if self.ended {
            self.ended = false;
            return (0, Step::End);
        }
        let limit = (size > 0).then_some(size);
        let consumed = self.feed(input, limit);
        if self.found {
            let chunk = match limit {
                None => self.out.split(),
                Some(n) => self.out.split_to(n.min(self.out.len())),
            };
            if self.out.is_empty() {
                self.found = false;
                self.ended = limit.is_some();
            }
            return (consumed, Step::Data(chunk.freeze()));
        }
        if let Some(n) = limit {
            if self.out.len() >= n {
                return (consumed, Step::Data(self.out.split_to(n).freeze()));
            }
        }
        (consumed, Step::NeedMore)
    }

    /// The partial data an erroring call returns.
    pub fn take_partial(&mut self) -> Bytes {
        self.out.split().freeze()
    }

    /// Forgets all progress, as a fresh `receiveuntil` would.
    pub fn reset(&mut self) {
        self.state = 0;
        self.out.clear();
        self.found = false;
        self.ended = false;
    }
}

fn borders(p: &[u8]) -> Box<[usize]> {
    let mut b = vec![0usize; p.len()];
    let mut k = 0;
    for i in 1..p.len() {
        while k > 0 && p[i] != p[k] {
            k = b[k - 1];
        }
        if p[i] == p[k] {
            k += 1;
        }
        b[i] = k;
    }
    b.into_boxed_slice()
}

/// The iterator object `tcpsock:receiveuntil()` returns, minus Lua: the
/// binding keeps one per Lua closure and passes it to
/// [`TcpSock::receive_until`](crate::TcpSock::receive_until).
///
/// The matcher sits in a `RefCell` that is only borrowed between awaits, so a
/// call that is cancelled midway leaves its progress here for the next call.
#[derive(Debug)]
pub struct ReceiveUntil {
    matcher: RefCell<UntilMatcher>,
}

impl ReceiveUntil {
    pub fn new(pattern: &[u8], inclusive: bool) -> Result<Self, SockError> {
        Ok(ReceiveUntil {
            matcher: RefCell::new(UntilMatcher::new(pattern, inclusive)?),
        })
    }

    pub(crate) fn matcher(&self) -> &RefCell<UntilMatcher> {
        &self.matcher
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pattern: &str, inclusive: bool, input: &str, sizes: &[usize]) -> Vec<Step> {
        let mut m = UntilMatcher::new(pattern.as_bytes(), inclusive).unwrap();
        let mut rest = input.as_bytes();
        sizes
            .iter()
            .map(|&size| {
                let (n, step) = m.step(rest, size);
                rest = &rest[n..];
                match step {
                    Step::NeedMore => Step::Data(m.take_partial()),
                    s => s,
                }
            })
            .collect()
    }

    fn data(s: &str) -> Step {
        Step::Data(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn readme_example_unsized() {
        let got = run(
            "\r\n--abcedhb",
            false,
            "hello, world! -agentzh\r\n--abcedhb blah blah",
            &[0],
        );
        assert_eq!(got, vec![data("hello, world! -agentzh")]);
    }

    #[test]
    fn readme_example_sized() {
        let got = run(
            "\r\n--abcedhb",
            false,
            "hello, world! -agentzh\r\n--abcedhb blah blah",
            &[4, 4, 4, 4, 4, 4, 4],
        );
        let want = ["hell", "o, w", "orld", "! -a", "gent", "zh"];
        let mut want: Vec<Step> = want.iter().map(|s| data(s)).collect();
        want.push(Step::End);
        assert_eq!(got, want);
    }

    #[test]
    fn inclusive_keeps_the_pattern() {
        let got = run("_END_", true, "hello world _END_ blah blah blah", &[0]);
        assert_eq!(got, vec![data("hello world _END_")]);
    }

    #[test]
    fn self_overlapping_pattern() {
        let got = run("--abc--abd", false, "x--abc--abc--abdy", &[0]);
        assert_eq!(got, vec![data("x--abc")]);
        let got = run("aab", false, "aaab", &[0]);
        assert_eq!(got, vec![data("a")]);
    }

    #[test]
    fn sized_call_ending_on_a_chunk_boundary_returns_empty_then_end() {
        let got = run("--", false, "abcd--", &[2, 2, 2, 2]);
        assert_eq!(got, vec![data("ab"), data("cd"), data(""), Step::End]);
    }

    #[test]
    fn searching_resumes_after_end() {
        let got = run("|", false, "ab|cd|", &[0, 0]);
        assert_eq!(got, vec![data("ab"), data("cd")]);
        let got = run("|", false, "ab|cd|", &[8, 8, 8]);
        assert_eq!(got, vec![data("ab"), Step::End, data("cd")]);
    }

    #[test]
    fn partial_match_is_held_back_on_error() {
        let got = run("--end", false, "data--en", &[0]);
        assert_eq!(got, vec![data("data")]);
    }

    #[test]
    fn empty_pattern_is_refused() {
        assert_eq!(
            UntilMatcher::new(b"", false).unwrap_err(),
            SockError::PatternEmpty
        );
    }

    #[test]
    fn border_table() {
        assert_eq!(&*borders(b"--abc--abd"), &[0, 1, 0, 0, 0, 1, 2, 3, 4, 0]);
        assert_eq!(&*borders(b"aaaa"), &[0, 1, 2, 3]);
    }
}
