//! Running a [`Regex`] against a subject.

use std::ffi::{c_int, c_void};

use pcre2_sys::{
    pcre2_dfa_match_8, pcre2_get_ovector_pointer_8, pcre2_jit_match_8, pcre2_jit_stack_8,
    pcre2_jit_stack_assign_8, pcre2_jit_stack_create_8, pcre2_jit_stack_free_8, pcre2_match_8,
    pcre2_match_context_8, pcre2_match_context_create_8, pcre2_match_context_free_8,
    pcre2_match_data_8, pcre2_match_data_create_8, pcre2_match_data_free_8,
    pcre2_set_match_limit_8, PCRE2_ERROR_NOMATCH, PCRE2_UNSET,
};

use crate::Regex;

/// The smallest JIT stack `ngx.re.opt("jit_stack_size", n)` creates.
pub const MIN_JIT_STACK_SIZE: usize = 32 * 1024;

/// PCRE2's built-in match limit (its `MATCH_LIMIT`).
const DEFAULT_MATCH_LIMIT: u32 = 10_000_000;

/// Workspace of `pcre2_dfa_match`, in ints.
const DFA_WORKSPACE: usize = 1000;

/// Match state shared by every regex of one Lua VM: the match data (grown to
/// the largest capture count seen), the match context carrying
/// `lua_regex_match_limit` and the JIT stack, and the DFA workspace.
///
/// Results of [`Matcher::exec`] stay readable until the next call.
#[derive(Debug)]
pub struct Matcher {
    md: *mut pcre2_match_data_8,
    /// `md`'s ovector (fixed for the life of the block).
    ov: *const usize,
    /// Pairs `md` has room for.
    pairs: usize,
    mctx: *mut pcre2_match_context_8,
    jit_stack: *mut pcre2_jit_stack_8,
    ws: Vec<c_int>,
}

impl Drop for Matcher {
    fn drop(&mut self) {
        // SAFETY: each pointer is null or owned by this matcher alone.
        unsafe {
            if !self.md.is_null() {
                pcre2_match_data_free_8(self.md);
            }
            if !self.mctx.is_null() {
                pcre2_match_context_free_8(self.mctx);
            }
            if !self.jit_stack.is_null() {
                pcre2_jit_stack_free_8(self.jit_stack);
            }
        }
    }
}

impl Matcher {
    /// `match_limit` 0 keeps PCRE2's default (as `lua_regex_match_limit 0`).
    pub fn new(match_limit: u32) -> Matcher {
        // SAFETY: a null general context means malloc/free.
        let mctx = unsafe { pcre2_match_context_create_8(std::ptr::null_mut()) };
        let mut m = Matcher {
            md: std::ptr::null_mut(),
            ov: std::ptr::null(),
            pairs: 0,
            mctx,
            jit_stack: std::ptr::null_mut(),
            ws: Vec::new(),
        };
        m.set_match_limit(match_limit);
        m
    }

    /// The backtracking limit of later matches; 0 restores PCRE2's default.
    pub fn set_match_limit(&mut self, limit: u32) {
        if !self.mctx.is_null() {
            let limit = if limit == 0 {
                DEFAULT_MATCH_LIMIT
            } else {
                limit
            };
            // SAFETY: `mctx` is a valid context we own.
            unsafe { pcre2_set_match_limit_8(self.mctx, limit) };
        }
    }

    /// Replace the JIT stack (at least [`MIN_JIT_STACK_SIZE`] bytes) used
    /// by JIT-compiled regexes from now on.
    pub fn set_jit_stack_size(&mut self, size: usize) -> Result<(), &'static str> {
        let size = size.max(MIN_JIT_STACK_SIZE);
        // SAFETY: plain allocation with the default general context.
        let stack =
            unsafe { pcre2_jit_stack_create_8(MIN_JIT_STACK_SIZE, size, std::ptr::null_mut()) };
        if stack.is_null() || self.mctx.is_null() {
            if !stack.is_null() {
                // SAFETY: just created, not assigned anywhere.
                unsafe { pcre2_jit_stack_free_8(stack) };
            }
            return Err("pcre jit stack allocation failed");
        }
        // SAFETY: with a null callback PCRE2 uses `data` as the JIT stack;
        // the old stack is freed only after the context stops naming it.
        unsafe {
            pcre2_jit_stack_assign_8(self.mctx, None, stack as *mut c_void);
            if !self.jit_stack.is_null() {
                pcre2_jit_stack_free_8(self.jit_stack);
            }
        }
        self.jit_stack = stack;
        Ok(())
    }

    /// Run `re` on `subject` from byte offset `start`.
    ///
    /// `Ok(Some(n))`: a match; groups `0..n` may be read with
    /// [`Matcher::group`] (in DFA mode `n` is 1: the longest match).
    /// `Ok(None)`: no match. `Err(rc)`: PCRE2's negative error code
    /// (a bad offset, invalid UTF-8, the match limit ...).
    pub fn exec(&mut self, re: &Regex, subject: &[u8], start: usize) -> Result<Option<usize>, i32> {
        let dfa = re.options().dfa;
        let need = if dfa { 1 } else { re.captures() + 1 };
        if need > self.pairs || self.md.is_null() {
            self.grow(need)?;
        }
        let rc = if dfa {
            if self.ws.is_empty() {
                self.ws = vec![0; DFA_WORKSPACE];
            }
            // SAFETY: subject, match data, context and workspace are valid
            // for the call; the pattern outlives it.
            unsafe {
                pcre2_dfa_match_8(
                    re.code(),
                    subject.as_ptr(),
                    subject.len(),
                    start,
                    0,
                    self.md,
                    self.mctx,
                    self.ws.as_mut_ptr(),
                    self.ws.len(),
                )
            }
        } else if re.direct_jit() && start <= subject.len() {
            // pcre2_jit_match skips pcre2_match's checks: the offset is
            // checked above and direct_jit() excludes UTF-8 patterns (whose
            // subjects pcre2_match validates).
            // SAFETY: as above.
            unsafe {
                pcre2_jit_match_8(
                    re.code(),
                    subject.as_ptr(),
                    subject.len(),
                    start,
                    0,
                    self.md,
                    self.mctx,
                )
            }
        } else {
            // SAFETY: as above.
            unsafe {
                pcre2_match_8(
                    re.code(),
                    subject.as_ptr(),
                    subject.len(),
                    start,
                    0,
                    self.md,
                    self.mctx,
                )
            }
        };
        match rc {
            PCRE2_ERROR_NOMATCH => Ok(None),
            rc if rc < 0 => Err(rc),
            // DFA: more matches than pairs (the longest comes first)
            _ if dfa => Ok(Some(1)),
            0 => Ok(Some(self.pairs)),
            rc => Ok(Some(rc as usize)),
        }
    }

    /// Byte range of group `i` of the last match; `None` if the group did
    /// not take part. `i` must be below the count `exec` returned.
    pub fn group(&self, i: usize) -> Option<(usize, usize)> {
        if i >= self.pairs {
            return None;
        }
        // SAFETY: `ov` is the ovector of `md`, which has `self.pairs` pairs.
        let (from, to) = unsafe { (*self.ov.add(2 * i), *self.ov.add(2 * i + 1)) };
        if from == PCRE2_UNSET || to == PCRE2_UNSET {
            return None;
        }
        // `\K` can put the start after the end; report an empty match there
        Some((from, to.max(from)))
    }

    fn grow(&mut self, pairs: usize) -> Result<(), i32> {
        let pairs = pairs.max(self.pairs).max(4);
        // SAFETY: plain allocation; the old block is freed once replaced.
        let md = unsafe { pcre2_match_data_create_8(pairs as u32, std::ptr::null_mut()) };
        if md.is_null() {
            return Err(pcre2_sys::PCRE2_ERROR_NOMEMORY);
        }
        if !self.md.is_null() {
            // SAFETY: owned by us, no longer referenced.
            unsafe { pcre2_match_data_free_8(self.md) };
        }
        self.md = md;
        // SAFETY: `md` is a valid match data block.
        self.ov = unsafe { pcre2_get_ovector_pointer_8(md) };
        self.pairs = pairs;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;

    fn re(p: &str, o: &str) -> Regex {
        Regex::new(p.as_bytes(), Options::parse(o.as_bytes()).unwrap()).unwrap()
    }

    #[test]
    fn groups_and_offsets() {
        let mut m = Matcher::new(0);
        let r = re(r"(\d+)(x)?-(\d+)", "");
        assert_eq!(m.exec(&r, b"ab 12-345", 0), Ok(Some(4)));
        assert_eq!(m.group(0), Some((3, 9)));
        assert_eq!(m.group(1), Some((3, 5)));
        assert_eq!(m.group(2), None);
        assert_eq!(m.group(3), Some((6, 9)));
        assert_eq!(m.exec(&r, b"ab 12-345", 6), Ok(None));
        // trailing unset groups are not counted
        let r = re("(a)(b)?", "");
        assert_eq!(m.exec(&r, b"a", 0), Ok(Some(2)));
    }

    #[test]
    fn jit_and_interpreter_agree() {
        let mut m = Matcher::new(0);
        for o in ["", "j", "ju"] {
            let r = re("(?i)h(e)(l+)", o);
            assert_eq!(m.exec(&r, b"xHELLo", 0), Ok(Some(3)), "{o}");
            assert_eq!(m.group(2), Some((3, 5)));
            assert_eq!(m.exec(&r, b"xHELLo", 2), Ok(None), "{o}");
            let r = re("$", o);
            assert_eq!(m.exec(&r, b"ab", 2), Ok(Some(1)), "{o}");
            assert_eq!(m.group(0), Some((2, 2)));
            assert_eq!(
                m.exec(&r, b"ab", 3),
                Err(pcre2_sys::PCRE2_ERROR_BADOFFSET),
                "{o}"
            );
        }
        assert!(
            re("a", "j").direct_jit() && !re("a", "ju").direct_jit() && !re("a", "").direct_jit()
        );
    }

    #[test]
    fn dfa_gives_the_longest_match() {
        let mut m = Matcher::new(0);
        let r = re("b|bc|bcd", "d");
        assert_eq!(m.exec(&r, b"abcde", 0), Ok(Some(1)));
        assert_eq!(m.group(0), Some((1, 4)));
        let r = re("b|bc|bcd", "");
        assert_eq!(m.exec(&r, b"abcde", 0), Ok(Some(1)));
        assert_eq!(m.group(0), Some((1, 2)));
    }

    #[test]
    fn errors_are_pcre2_codes() {
        let mut m = Matcher::new(0);
        let r = re("b", "");
        assert_eq!(
            m.exec(&r, b"abc", 10),
            Err(pcre2_sys::PCRE2_ERROR_BADOFFSET)
        );
        let r = re("a", "u");
        assert_eq!(
            m.exec(&r, b"\xe4\xbd", 0),
            Err(pcre2_sys::PCRE2_ERROR_UTF8_ERR1)
        );
        // U never validates: invalid bytes just don't match
        let r = re(".", "U");
        assert_eq!(m.exec(&r, b"\xff\xfeb", 0), Ok(Some(1)));
        assert_eq!(m.group(0), Some((2, 3)));
    }

    #[test]
    fn match_limit_applies() {
        let subject = [b"a".repeat(16), b"b".to_vec()].concat();
        let mut m = Matcher::new(100);
        for o in ["", "j"] {
            let r = re("(a|aa)+c?(?:x|y)", o);
            let limited = m.exec(&r, &subject, 0);
            assert_eq!(limited, Err(pcre2_sys::PCRE2_ERROR_MATCHLIMIT), "{o}");
        }
        m.set_match_limit(0);
        for o in ["", "j"] {
            let r = re("(a|aa)+c?(?:x|y)", o);
            assert_eq!(m.exec(&r, &subject, 0), Ok(None), "{o}");
        }
    }

    #[test]
    fn jit_stack_limit_and_larger_stack() {
        let subject = b"a".repeat(200_000);
        let r = re("^(?:a|b)*[^a]", "j");
        let mut m = Matcher::new(0);
        assert_eq!(
            m.exec(&r, &subject, 0),
            Err(pcre2_sys::PCRE2_ERROR_JIT_STACKLIMIT)
        );
        m.set_jit_stack_size(64 * 1024 * 1024).unwrap();
        assert_eq!(m.exec(&r, &subject, 0), Ok(None));
    }
}
