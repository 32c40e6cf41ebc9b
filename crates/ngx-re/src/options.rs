//! The `options` argument of the `ngx.re` functions.

use pcre2_sys::{
    PCRE2_ALLOW_EMPTY_CLASS, PCRE2_ALT_BSUX, PCRE2_ANCHORED, PCRE2_CASELESS, PCRE2_DOTALL,
    PCRE2_DUPNAMES, PCRE2_EXTENDED, PCRE2_MATCH_INVALID_UTF, PCRE2_MATCH_UNSET_BACKREF,
    PCRE2_MULTILINE, PCRE2_UTF,
};

/// Parsed option letters. `pcre2` holds the PCRE2 compile options; the
/// booleans are the letters that change how moonwire runs the regex.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `o`: keep the compiled regex in the worker's cache.
    pub compile_once: bool,
    /// `j`: JIT-compile the regex.
    pub jit: bool,
    /// `d`: DFA matching (longest match, no sub-captures).
    pub dfa: bool,
    /// `D`: duplicate group names allowed; named captures become lists.
    pub dupnames: bool,
    pub pcre2: u32,
}

impl Options {
    /// Parse option letters as lua-nginx-module does. `Err` carries the
    /// first unknown letter (OpenResty raises `unknown flag "z"`).
    ///
    /// `U` is `u` without validating the subject in OpenResty, where invalid
    /// UTF-8 then is undefined behaviour in PCRE. Here it compiles with
    /// `PCRE2_MATCH_INVALID_UTF`, which skips the up-front check safely:
    /// invalid sequences just never match.
    ///
    /// `J` (PCRE1's `PCRE_JAVASCRIPT_COMPAT`) maps to the three PCRE2
    /// options that together replace it.
    pub fn parse(opts: &[u8]) -> Result<Options, u8> {
        let mut o = Options::default();
        for &c in opts {
            match c {
                b'o' => o.compile_once = true,
                b'j' => o.jit = true,
                b'd' => o.dfa = true,
                b'i' => o.pcre2 |= PCRE2_CASELESS,
                b's' => o.pcre2 |= PCRE2_DOTALL,
                b'm' => o.pcre2 |= PCRE2_MULTILINE,
                b'u' => o.pcre2 |= PCRE2_UTF,
                b'U' => o.pcre2 |= PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
                b'x' => o.pcre2 |= PCRE2_EXTENDED,
                b'a' => o.pcre2 |= PCRE2_ANCHORED,
                b'D' => {
                    o.pcre2 |= PCRE2_DUPNAMES;
                    o.dupnames = true;
                }
                b'J' => {
                    o.pcre2 |= PCRE2_ALT_BSUX | PCRE2_ALLOW_EMPTY_CLASS | PCRE2_MATCH_UNSET_BACKREF
                }
                other => return Err(other),
            }
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        let o = Options::parse(b"jo").unwrap();
        assert!(o.jit && o.compile_once && !o.dfa && o.pcre2 == 0);
        let o = Options::parse(b"imsxa").unwrap();
        assert_eq!(
            o.pcre2,
            PCRE2_CASELESS | PCRE2_MULTILINE | PCRE2_DOTALL | PCRE2_EXTENDED | PCRE2_ANCHORED
        );
        let o = Options::parse(b"dD").unwrap();
        assert!(o.dfa && o.dupnames && o.pcre2 == PCRE2_DUPNAMES);
        assert_eq!(Options::parse(b"").unwrap(), Options::default());
    }

    #[test]
    fn unknown_letter_is_reported() {
        assert_eq!(Options::parse(b"oz"), Err(b'z'));
        assert_eq!(Options::parse(b"jx i"), Err(b' '));
    }
}
