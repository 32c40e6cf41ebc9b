//! Replacement templates of `ngx.re.sub` / `ngx.re.gsub`.
//!
//! `$N` and `${N}` insert capture N (`$0` the whole match; a group that did
//! not take part, or does not exist, inserts nothing), `$$` is a `$`.
//! Everything else is literal. Named references (`$name`, `${name}`) are
//! refused, as lua-nginx-module does.

use std::fmt;

use crate::Matcher;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    /// Bytes `start..end` of the template source.
    Lit(usize, usize),
    Cap(usize),
}

/// A parsed template. It refers to its source by offsets, so
/// [`Template::expand`] takes the same source bytes again; one `Template`
/// can be re-parsed in place for every call without allocating.
#[derive(Clone, Debug, Default)]
pub struct Template {
    parts: Vec<Part>,
    has_vars: bool,
}

/// Why a template was refused. lua-nginx-module logs [`TemplateError::log_message`]
/// at `error` and returns `failed to compile the replacement template`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// A `$` that starts no reference (at the end, or before `}` or punctuation).
    InvalidName(Vec<u8>),
    MissingBracket(Vec<u8>),
    Named(Vec<u8>),
}

impl TemplateError {
    /// The line lua-nginx-module writes to the error log.
    pub fn log_message(&self) -> String {
        match self {
            TemplateError::InvalidName(src) => format!(
                "lua script: invalid capturing variable name found in \"{}\"",
                String::from_utf8_lossy(src)
            ),
            TemplateError::MissingBracket(name) => format!(
                "the closing bracket in \"{}\" variable is missing",
                String::from_utf8_lossy(name)
            ),
            TemplateError::Named(name) => format!(
                "attempt to use named capturing variable \"{}\" (named captures not supported yet)",
                String::from_utf8_lossy(name)
            ),
        }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.log_message())
    }
}

fn is_name_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

impl Template {
    /// Parse `src`, replacing what this template held.
    pub fn parse(&mut self, src: &[u8]) -> Result<(), TemplateError> {
        self.parts.clear();
        self.has_vars = false;
        let mut i = 0;
        while i < src.len() {
            if src[i] != b'$' {
                let start = i;
                while i < src.len() && src[i] != b'$' {
                    i += 1;
                }
                self.parts.push(Part::Lit(start, i));
                continue;
            }
            i += 1;
            match src.get(i) {
                None => return Err(TemplateError::InvalidName(src.to_vec())),
                Some(b'$') => {
                    self.parts.push(Part::Lit(i, i + 1));
                    i += 1;
                    continue;
                }
                _ => {}
            }
            let bracket = src[i] == b'{';
            if bracket {
                i += 1;
                if i == src.len() {
                    return Err(TemplateError::InvalidName(src.to_vec()));
                }
            }
            let numeric = src[i].is_ascii_digit();
            let start = i;
            let mut n: usize = 0;
            let mut closed = false;
            while i < src.len() {
                let c = src[i];
                if bracket && c == b'}' {
                    closed = true;
                    break;
                }
                if numeric {
                    if !c.is_ascii_digit() {
                        break;
                    }
                    n = n.saturating_mul(10).saturating_add(usize::from(c - b'0'));
                } else if !is_name_char(c) {
                    break;
                }
                i += 1;
            }
            let name = &src[start..i];
            if closed {
                i += 1;
            } else if bracket {
                return Err(TemplateError::MissingBracket(name.to_vec()));
            }
            if name.is_empty() {
                return Err(TemplateError::InvalidName(src.to_vec()));
            }
            if !numeric {
                return Err(TemplateError::Named(name.to_vec()));
            }
            self.parts.push(Part::Cap(n));
            self.has_vars = true;
        }
        Ok(())
    }

    /// Whether the template references captures (otherwise it is its
    /// source verbatim, apart from `$$`).
    pub fn has_vars(&self) -> bool {
        self.has_vars
    }

    /// Append the expansion for the last match of `m` (`count` groups, as
    /// `Matcher::exec` returned) on `subject` to `out`.
    pub fn expand(&self, src: &[u8], subject: &[u8], m: &Matcher, count: usize, out: &mut Vec<u8>) {
        for p in &self.parts {
            match *p {
                Part::Lit(a, b) => out.extend_from_slice(&src[a..b]),
                Part::Cap(n) if n < count => {
                    if let Some((from, to)) = m.group(n) {
                        out.extend_from_slice(&subject[from..to]);
                    }
                }
                Part::Cap(_) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Options, Regex};

    fn expand(tpl: &str, pat: &str, subj: &str) -> Result<String, TemplateError> {
        let mut t = Template::default();
        t.parse(tpl.as_bytes())?;
        let re = Regex::new(pat.as_bytes(), Options::default()).unwrap();
        let mut m = Matcher::new(0);
        let n = m.exec(&re, subj.as_bytes(), 0).unwrap().unwrap();
        let mut out = Vec::new();
        t.expand(tpl.as_bytes(), subj.as_bytes(), &m, n, &mut out);
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn references() {
        assert_eq!(
            expand("[$2$1$0$$$3${1}x$10]", "(l)(l)", "hello").unwrap(),
            "[llll$lx]"
        );
        assert_eq!(expand("<$1|$2>", "(a)(b)?", "a").unwrap(), "<a|>");
        assert_eq!(expand("$1a$01", "(a)", "a").unwrap(), "aaa");
        assert_eq!(expand("plain", "a", "a").unwrap(), "plain");
        assert_eq!(expand("", "a", "a").unwrap(), "");
        assert_eq!(expand("$99999999999999999999999", "a", "a").unwrap(), "");
    }

    #[test]
    fn refusals_match_lua_nginx_module() {
        let err = |t: &str| {
            let mut tp = Template::default();
            tp.parse(t.as_bytes()).unwrap_err().log_message()
        };
        assert_eq!(
            err("$"),
            r#"lua script: invalid capturing variable name found in "$""#
        );
        assert_eq!(
            err("a${"),
            r#"lua script: invalid capturing variable name found in "a${""#
        );
        assert_eq!(
            err("${}"),
            r#"lua script: invalid capturing variable name found in "${}""#
        );
        assert_eq!(
            err("$ x"),
            r#"lua script: invalid capturing variable name found in "$ x""#
        );
        assert_eq!(
            err("${1"),
            r#"the closing bracket in "1" variable is missing"#
        );
        assert_eq!(
            err("${1x}"),
            r#"the closing bracket in "1" variable is missing"#
        );
        assert_eq!(
            err("${a-}"),
            r#"the closing bracket in "a" variable is missing"#
        );
        assert_eq!(
            err("$a"),
            r#"attempt to use named capturing variable "a" (named captures not supported yet)"#
        );
        assert_eq!(
            err("${ab_1}"),
            r#"attempt to use named capturing variable "ab_1" (named captures not supported yet)"#
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(tpl in proptest::collection::vec(proptest::sample::select(b"$ {}0129a_x".to_vec()), 0..16)) {
            let mut t = Template::default();
            if t.parse(&tpl).is_ok() {
                let re = Regex::new(b"(a)(b)?", Options::default()).unwrap();
                let mut m = Matcher::new(0);
                let n = m.exec(&re, b"xa", 0).unwrap().unwrap();
                let mut out = Vec::new();
                t.expand(&tpl, b"xa", &m, n, &mut out);
            }
        }
    }
}
