//! A compiled PCRE2 pattern.

use std::ffi::c_void;
use std::fmt;
use std::ptr::NonNull;

use pcre2_sys::{
    pcre2_code_8, pcre2_code_free_8, pcre2_compile_8, pcre2_get_error_message_8,
    pcre2_jit_compile_8, pcre2_pattern_info_8, PCRE2_INFO_CAPTURECOUNT, PCRE2_INFO_NAMECOUNT,
    PCRE2_INFO_NAMEENTRYSIZE, PCRE2_INFO_NAMETABLE, PCRE2_JIT_COMPLETE, PCRE2_UTF,
};

use crate::Options;

/// Why a pattern did not compile, worded as OpenResty (with PCRE2) returns
/// it: `pcre2_compile() failed: missing closing parenthesis in "(abc"`.
/// Bytes, because the pattern in the message need not be UTF-8.
#[derive(Clone, PartialEq, Eq)]
pub struct CompileError(pub Vec<u8>);

impl fmt::Debug for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompileError({:?})", String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

/// A compiled regex with the options it was compiled for.
#[derive(Debug)]
pub struct Regex {
    code: NonNull<pcre2_code_8>,
    opts: Options,
    /// Capture groups, 0 in DFA mode (which reports the whole match only).
    captures: usize,
    /// `(group, name)` in PCRE2's name-table order: sorted by name, then
    /// by group number for duplicate names.
    names: Vec<(usize, Box<[u8]>)>,
    jitted: bool,
}

impl Drop for Regex {
    fn drop(&mut self) {
        // SAFETY: `code` came from pcre2_compile and is freed only here.
        unsafe { pcre2_code_free_8(self.code.as_ptr()) }
    }
}

impl Regex {
    /// Compile `pattern` with `opts` (JIT-compiled when `opts.jit`; a JIT
    /// failure leaves the interpreter in charge, as in OpenResty).
    pub fn new(pattern: &[u8], opts: Options) -> Result<Regex, CompileError> {
        let mut errcode = 0;
        let mut erroff = 0usize;
        // SAFETY: the pattern pointer/length pair is valid for the call;
        // PCRE2 copies what it needs.
        let code = unsafe {
            pcre2_compile_8(
                pattern.as_ptr(),
                pattern.len(),
                opts.pcre2,
                &mut errcode,
                &mut erroff,
                std::ptr::null_mut(),
            )
        };
        let Some(code) = NonNull::new(code) else {
            return Err(compile_error(pattern, errcode, erroff));
        };
        let mut re = Regex {
            code,
            opts,
            captures: 0,
            names: Vec::new(),
            jitted: false,
        };
        if !opts.dfa {
            re.captures = re.info_u32(PCRE2_INFO_CAPTURECOUNT) as usize;
        }
        re.names = re.name_table();
        if opts.jit {
            // SAFETY: `code` is a valid compiled pattern we own.
            re.jitted = unsafe { pcre2_jit_compile_8(code.as_ptr(), PCRE2_JIT_COMPLETE) } == 0;
        }
        Ok(re)
    }

    pub fn options(&self) -> Options {
        self.opts
    }

    /// Number of capture groups reported to Lua (0 in DFA mode).
    pub fn captures(&self) -> usize {
        self.captures
    }

    /// `(group, name)` pairs of the named groups, in PCRE2's table order.
    pub fn names(&self) -> &[(usize, Box<[u8]>)] {
        &self.names
    }

    /// Whether the JIT compiler accepted the pattern.
    pub fn jitted(&self) -> bool {
        self.jitted
    }

    /// Whether `pcre2_jit_match` may run this regex directly: it has JIT
    /// code and is not in UTF mode (so there is no subject to validate).
    pub(crate) fn direct_jit(&self) -> bool {
        self.jitted && self.opts.pcre2 & PCRE2_UTF == 0
    }

    pub(crate) fn code(&self) -> *const pcre2_code_8 {
        self.code.as_ptr()
    }

    fn info_u32(&self, what: u32) -> u32 {
        let mut v: u32 = 0;
        // SAFETY: the CAPTURECOUNT/NAMECOUNT/NAMEENTRYSIZE items write a uint32_t.
        let rc =
            unsafe { pcre2_pattern_info_8(self.code(), what, &mut v as *mut u32 as *mut c_void) };
        if rc == 0 {
            v
        } else {
            0
        }
    }

    fn name_table(&self) -> Vec<(usize, Box<[u8]>)> {
        let count = self.info_u32(PCRE2_INFO_NAMECOUNT) as usize;
        if count == 0 {
            return Vec::new();
        }
        let size = self.info_u32(PCRE2_INFO_NAMEENTRYSIZE) as usize;
        let mut table: *const u8 = std::ptr::null();
        // SAFETY: NAMETABLE writes a PCRE2_SPTR into `table`.
        let rc = unsafe {
            pcre2_pattern_info_8(
                self.code(),
                PCRE2_INFO_NAMETABLE,
                &mut table as *mut *const u8 as *mut c_void,
            )
        };
        if rc != 0 || table.is_null() || size < 3 {
            return Vec::new();
        }
        // SAFETY: the table holds `count` entries of `size` bytes and lives
        // as long as the compiled pattern.
        let bytes = unsafe { std::slice::from_raw_parts(table, count * size) };
        bytes
            .chunks_exact(size)
            .map(|e| {
                // entry: 2-byte big-endian group number, then the NUL-terminated name
                let group = (usize::from(e[0]) << 8) | usize::from(e[1]);
                let name = &e[2..];
                let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
                (group, name[..end].into())
            })
            .collect()
    }
}

/// nginx's `ngx_regex_compile` wording (what lua-nginx-module returns).
fn compile_error(pattern: &[u8], errcode: i32, erroff: usize) -> CompileError {
    let mut buf = [0u8; 256];
    // SAFETY: PCRE2 writes at most `buf.len()` bytes, NUL included.
    let n = unsafe { pcre2_get_error_message_8(errcode, buf.as_mut_ptr(), buf.len()) };
    let msg = &buf[..n.max(0) as usize];
    let mut out = Vec::with_capacity(msg.len() + pattern.len() * 2 + 40);
    out.extend_from_slice(b"pcre2_compile() failed: ");
    out.extend_from_slice(msg);
    out.extend_from_slice(b" in \"");
    out.extend_from_slice(pattern);
    out.push(b'"');
    if erroff < pattern.len() {
        // nginx prints the rest as a C string: up to the first NUL
        let rest = &pattern[erroff..];
        let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
        out.extend_from_slice(b" at \"");
        out.extend_from_slice(&rest[..end]);
        out.push(b'"');
    }
    CompileError(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(s: &str) -> Options {
        Options::parse(s.as_bytes()).unwrap()
    }

    #[test]
    fn errors_read_like_nginx() {
        let e = Regex::new(b"(abc", opts("")).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"pcre2_compile() failed: missing closing parenthesis in "(abc""#
        );
        let e = Regex::new(b"a[b", opts("")).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"pcre2_compile() failed: missing terminating ] for character class in "a[b""#
        );
        let e = Regex::new(b"(?<n>a)(?<n>b)", opts("")).unwrap_err();
        assert!(
            e.to_string().ends_with(r#" in "(?<n>a)(?<n>b)" at "b)""#),
            "{e}"
        );
    }

    #[test]
    fn captures_and_names() {
        let re = Regex::new(b"(?<year>\\d+)-(\\d+)-(?<day>\\d+)", opts("")).unwrap();
        assert_eq!(re.captures(), 3);
        let names: Vec<_> = re.names().iter().map(|(g, n)| (*g, &n[..])).collect();
        assert_eq!(names, vec![(3, &b"day"[..]), (1, &b"year"[..])]);
        // DFA reports only the whole match
        let re = Regex::new(b"(a)(b)", opts("d")).unwrap();
        assert_eq!(re.captures(), 0);
    }

    #[test]
    fn jit_compiles() {
        let re = Regex::new(b"a+b", opts("j")).unwrap();
        assert!(re.jitted());
        assert!(!Regex::new(b"a+b", opts("")).unwrap().jitted());
    }
}
