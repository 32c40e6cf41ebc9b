//! Properties of the `receiveuntil` matcher:
//! 1. the results of a sequence of iterator calls do not depend on how the
//!    input is cut into reads;
//! 2. they match a naive model that recomputes the partial match from its
//!    definition at every byte instead of using a failure table.

use bytes::{Buf, Bytes, BytesMut};
use ngx_cosocket::{Step, UntilMatcher};
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Data(Bytes),
    End,
    /// EOF before the call completed, with the partial data.
    Closed(Bytes),
}

/// Feeds `chunks` the way the socket does: each call steps over what is
/// buffered and reads another chunk only when the matcher needs more.
fn drive(pattern: &[u8], inclusive: bool, chunks: &[Vec<u8>], calls: &[usize]) -> Vec<Outcome> {
    let mut m = UntilMatcher::new(pattern, inclusive).unwrap();
    let mut buf = BytesMut::new();
    let mut next = chunks.iter();
    let mut out = Vec::new();
    for &size in calls {
        loop {
            let (used, step) = m.step(&buf, size);
            buf.advance(used);
            match step {
                Step::Data(d) => out.push(Outcome::Data(d)),
                Step::End => out.push(Outcome::End),
                Step::NeedMore => match next.next() {
                    Some(c) => {
                        buf.extend_from_slice(c);
                        continue;
                    }
                    None => {
                        out.push(Outcome::Closed(m.take_partial()));
                        return out;
                    }
                },
            }
            break;
        }
    }
    out
}

/// Longest h < |p| with `text` ending in `p[..h]`, by brute force.
fn naive_state(text: &[u8], p: &[u8]) -> usize {
    (0..p.len().min(text.len() + 1))
        .rev()
        .find(|&h| text.ends_with(&p[..h]))
        .unwrap_or(0)
}

/// The model: consume one byte at a time; data is confirmed once it can no
/// longer be the start of the pattern.
fn model(pattern: &[u8], inclusive: bool, data: &[u8], calls: &[usize]) -> Vec<Outcome> {
    let m = pattern.len();
    let (mut pos, mut start, mut confirmed) = (0, 0, 0);
    let mut pending: Vec<u8> = Vec::new();
    let (mut found, mut ended) = (false, false);
    let mut out = Vec::new();
    for &size in calls {
        if ended {
            ended = false;
            out.push(Outcome::End);
            continue;
        }
        loop {
            if found {
                let n = if size == 0 {
                    pending.len()
                } else {
                    size.min(pending.len())
                };
                out.push(Outcome::Data(
                    pending.drain(..n).collect::<Vec<u8>>().into(),
                ));
                if pending.is_empty() {
                    found = false;
                    ended = size > 0;
                }
                break;
            }
            if size > 0 && pending.len() >= size {
                out.push(Outcome::Data(
                    pending.drain(..size).collect::<Vec<u8>>().into(),
                ));
                break;
            }
            if pos == data.len() {
                out.push(Outcome::Closed(std::mem::take(&mut pending).into()));
                return out;
            }
            pos += 1;
            let text = &data[start..pos];
            if text.ends_with(pattern) {
                pending.extend_from_slice(&data[confirmed..pos - m]);
                if inclusive {
                    pending.extend_from_slice(pattern);
                }
                found = true;
                start = pos;
                confirmed = pos;
            } else {
                let upto = pos - naive_state(text, pattern);
                pending.extend_from_slice(&data[confirmed..upto]);
                confirmed = upto;
            }
        }
    }
    out
}

fn cut(data: &[u8], cuts: &[usize]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut rest = data;
    let mut cuts = cuts.iter().cycle();
    while !rest.is_empty() {
        let n = (*cuts.next().unwrap_or(&1)).clamp(1, rest.len());
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    out
}

/// Small alphabets make self-overlapping patterns and near-misses common.
fn bytes_over(
    alphabet: &'static [u8],
    len: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop::sample::select(alphabet), len)
}

fn case() -> impl Strategy<Value = (Vec<u8>, Vec<u8>, bool, Vec<usize>, Vec<usize>)> {
    (
        bytes_over(b"ab-", 1..7),
        bytes_over(b"ab-", 0..160),
        any::<bool>(),
        prop::collection::vec(prop_oneof![Just(0usize), 1usize..6], 1..40),
        prop::collection::vec(1usize..9, 1..8),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn chunking_does_not_matter((pattern, data, inclusive, calls, cuts) in case()) {
        let whole = drive(&pattern, inclusive, std::slice::from_ref(&data), &calls);
        let bytewise = drive(&pattern, inclusive, &cut(&data, &[1]), &calls);
        let split = drive(&pattern, inclusive, &cut(&data, &cuts), &calls);
        prop_assert_eq!(&whole, &bytewise);
        prop_assert_eq!(&whole, &split);
    }

    #[test]
    fn matches_the_naive_model((pattern, data, inclusive, calls, cuts) in case()) {
        let got = drive(&pattern, inclusive, &cut(&data, &cuts), &calls);
        prop_assert_eq!(got, model(&pattern, inclusive, &data, &calls));
    }

    #[test]
    fn embedded_pattern_is_found(
        (prefix, pattern, suffix) in (bytes_over(b"ab-", 0..40), bytes_over(b"ab-", 1..8), bytes_over(b"ab-", 0..40)),
    ) {
        // Whatever precedes the first occurrence comes back, unsized.
        let data = [&prefix[..], &pattern, &suffix].concat();
        let first = data.windows(pattern.len()).position(|w| w == &pattern[..]).unwrap();
        let got = drive(&pattern, false, &cut(&data, &[3]), &[0]);
        prop_assert_eq!(got, vec![Outcome::Data(Bytes::copy_from_slice(&data[..first]))]);
        let got = drive(&pattern, true, &cut(&data, &[2]), &[0]);
        let want = Bytes::copy_from_slice(&data[..first + pattern.len()]);
        prop_assert_eq!(got, vec![Outcome::Data(want)]);
    }

    #[test]
    fn sized_chunks_never_exceed_size((pattern, data, inclusive, calls, cuts) in case()) {
        for (size, outcome) in calls.iter().zip(drive(&pattern, inclusive, &cut(&data, &cuts), &calls)) {
            if let (s @ 1.., Outcome::Data(d)) = (*size, outcome) {
                prop_assert!(d.len() <= s);
            }
        }
    }
}

#[test]
fn openresty_repeated_prefix_pattern() {
    let data = b"--abc--abc--abd--abc--abd";
    let got = drive(b"--abc--abd", false, &cut(data, &[1]), &[0, 0, 0]);
    assert_eq!(
        got,
        vec![
            Outcome::Data(Bytes::from_static(b"--abc")),
            Outcome::Data(Bytes::new()),
            Outcome::Closed(Bytes::new()),
        ]
    );
}
