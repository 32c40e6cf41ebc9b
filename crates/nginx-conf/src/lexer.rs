//! Tokenizer following nginx's `ngx_conf_read_token()`, plus a raw reader for
//! `*_by_lua_block` bodies following lua-nginx-module's Lua-aware brace matcher.
//!
//! The lexer works statement by statement: it collects words until `;`, `{`
//! or `}` and reports which one ended them, because whether a `{` opens an
//! nginx block or a raw Lua body is decided by the parser from the words.

use std::path::Path;
use std::sync::Arc;

use crate::{Arg, Error, Quote};

/// What ended a run of words.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Statement {
    /// `name args ;` — `line` is the line of the `;`.
    Simple {
        name: Arg,
        args: Vec<Arg>,
        line: usize,
    },
    /// `name args {` — `line` is the line of the `{` (already consumed).
    BlockStart {
        name: Arg,
        args: Vec<Arg>,
        line: usize,
    },
    /// A `}` with no words before it.
    BlockEnd,
    /// End of input with no words pending.
    Eof,
}

pub(crate) struct Lexer<'a> {
    text: &'a str,
    src: &'a [u8],
    pos: usize,
    line: usize,
    file: Arc<Path>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(text: &'a str, file: Arc<Path>) -> Self {
        Lexer {
            text,
            src: text.as_bytes(),
            pos: 0,
            line: 1,
            file,
        }
    }

    /// The current line (nginx reports most errors at the line it is reading).
    pub(crate) fn line(&self) -> usize {
        self.line
    }

    pub(crate) fn file(&self) -> &Arc<Path> {
        &self.file
    }

    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn bump(&mut self) {
        if self.peek() == Some(b'\n') {
            self.line += 1;
        }
        self.pos += 1;
    }

    fn error(&self, message: &str) -> Error {
        Error::at(message, &self.file, self.line)
    }

    fn eof_in_statement(&self) -> Error {
        self.error("unexpected end of file, expecting \";\" or \"}\"")
    }

    fn unexpected_here(&self) -> Error {
        let c = self.text.get(self.pos..).and_then(|s| s.chars().next());
        Error::unexpected(c.unwrap_or('?'), &self.file, self.line)
    }

    /// Read words up to and including the next `;`, `{` or `}`.
    pub(crate) fn next_statement(&mut self) -> Result<Statement, Error> {
        let mut words = Vec::new();
        loop {
            let Some(b) = self.peek() else {
                return if words.is_empty() {
                    Ok(Statement::Eof)
                } else {
                    Err(self.eof_in_statement())
                };
            };
            match b {
                _ if is_space(b) => self.bump(),
                b';' | b'{' => {
                    if words.is_empty() {
                        return Err(self.unexpected_here());
                    }
                    let line = self.line;
                    self.bump();
                    let name = words.remove(0);
                    let args = words;
                    return Ok(if b == b';' {
                        Statement::Simple { name, args, line }
                    } else {
                        Statement::BlockStart { name, args, line }
                    });
                }
                b'}' => {
                    if !words.is_empty() {
                        return Err(self.unexpected_here());
                    }
                    self.bump();
                    return Ok(Statement::BlockEnd);
                }
                b'#' => {
                    while self.peek().is_some_and(|b| b != b'\n') {
                        self.bump();
                    }
                }
                b'"' | b'\'' => {
                    words.push(self.quoted(b)?);
                    // nginx insists on a separator after a closing quote;
                    // `)` is allowed so that `if ($a = "b")` works.
                    match self.peek() {
                        None | Some(b';' | b'{' | b')') => {}
                        Some(b) if is_space(b) => {}
                        Some(_) => return Err(self.unexpected_here()),
                    }
                }
                _ => words.push(self.bare()?),
            }
        }
    }

    /// A quoted word; the opening quote is at `pos`.
    fn quoted(&mut self, quote: u8) -> Result<Arg, Error> {
        let line = self.line;
        self.bump();
        let start = self.pos;
        loop {
            match self.peek() {
                None => return Err(self.eof_in_statement()),
                Some(b'\\') => {
                    self.bump();
                    if self.peek().is_none() {
                        return Err(self.eof_in_statement());
                    }
                    self.bump();
                }
                Some(b) if b == quote => {
                    let value = unescape(&self.src[start..self.pos]);
                    self.bump();
                    let quote = if quote == b'"' {
                        Quote::Double
                    } else {
                        Quote::Single
                    };
                    return Ok(Arg { value, quote, line });
                }
                Some(_) => self.bump(),
            }
        }
    }

    /// An unquoted word; ends before whitespace, `;` or `{`. A `{` right after
    /// `$` (or after such a `{`) belongs to the word, so `${var}` stays whole.
    fn bare(&mut self) -> Result<Arg, Error> {
        let line = self.line;
        let start = self.pos;
        let mut variable = false;
        loop {
            match self.peek() {
                None => return Err(self.eof_in_statement()),
                Some(b'{') if variable => self.bump(),
                Some(b'\\') => {
                    variable = false;
                    self.bump();
                    if self.peek().is_none() {
                        return Err(self.eof_in_statement());
                    }
                    self.bump();
                }
                Some(b) if is_space(b) || b == b';' || b == b'{' => break,
                Some(b) => {
                    variable = b == b'$';
                    self.bump();
                }
            }
        }
        let value = unescape(&self.src[start..self.pos]);
        Ok(Arg {
            value,
            quote: Quote::None,
            line,
        })
    }

    /// The raw body of a `*_by_lua_block`, called right after its `{`.
    /// Braces inside Lua strings, long strings and comments do not count.
    /// Any unterminated construct is reported as nginx reports an unclosed
    /// block: `unexpected end of file, expecting "}"`.
    pub(crate) fn lua_body(&mut self) -> Result<String, Error> {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            let Some(b) = self.peek() else {
                return Err(self.error("unexpected end of file, expecting \"}\""));
            };
            match b {
                b'}' if depth == 0 => {
                    let body = self.text[start..self.pos].to_string();
                    self.bump();
                    return Ok(body);
                }
                b'}' => {
                    depth -= 1;
                    self.bump();
                }
                b'{' => {
                    depth += 1;
                    self.bump();
                }
                b'"' | b'\'' => self.lua_short_string(b)?,
                b'-' if self.src.get(self.pos + 1) == Some(&b'-') => {
                    self.pos += 2;
                    if let Some(level) = self.long_bracket_level() {
                        self.lua_long_bracket(level)?;
                    } else {
                        while self.peek().is_some_and(|b| b != b'\n') {
                            self.bump();
                        }
                    }
                }
                b'[' => match self.long_bracket_level() {
                    Some(level) => self.lua_long_bracket(level)?,
                    None => self.bump(),
                },
                _ => self.bump(),
            }
        }
    }

    /// `'...'` or `"..."` with backslash escapes. An unescaped newline ends it
    /// too (Lua would reject the code anyway), so one stray quote cannot
    /// swallow the rest of the file.
    fn lua_short_string(&mut self, quote: u8) -> Result<(), Error> {
        self.bump();
        loop {
            match self.peek() {
                None => return Err(self.error("unexpected end of file, expecting \"}\"")),
                Some(b'\\') => {
                    self.bump();
                    if self.peek().is_some() {
                        self.bump();
                    }
                }
                Some(b'\n') => return Ok(()),
                Some(b) => {
                    self.bump();
                    if b == quote {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// If `[`, `=`*n, `[` starts at `pos`, its level n.
    fn long_bracket_level(&self) -> Option<usize> {
        let rest = self.src.get(self.pos..)?;
        if rest.first() != Some(&b'[') {
            return None;
        }
        let level = rest[1..].iter().take_while(|&&b| b == b'=').count();
        (rest.get(1 + level) == Some(&b'[')).then_some(level)
    }

    /// Skip a long string/comment opened at `pos` up to its `]`, `=`*level, `]`.
    fn lua_long_bracket(&mut self, level: usize) -> Result<(), Error> {
        self.pos += level + 2;
        loop {
            let rest = &self.src[self.pos..];
            if rest.is_empty() {
                return Err(self.error("unexpected end of file, expecting \"}\""));
            }
            let closes = rest[0] == b']'
                && rest.len() > level + 1
                && rest[1..=level].iter().all(|&b| b == b'=')
                && rest[level + 1] == b']';
            if closes {
                self.pos += level + 2;
                return Ok(());
            }
            self.bump();
        }
    }
}

/// nginx's unescaping, applied to quoted and bare words alike: `\"`, `\'`,
/// `\\` give the character, `\n` `\r` `\t` give LF/CR/TAB, and any other
/// backslash pair is kept as both characters (so regexes like `\.php$` survive).
pub(crate) fn unescape(raw: &[u8]) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' {
            let replacement = match raw.get(i + 1) {
                Some(&c @ (b'"' | b'\'' | b'\\')) => Some(c),
                Some(b'n') => Some(b'\n'),
                Some(b'r') => Some(b'\r'),
                Some(b't') => Some(b'\t'),
                _ => None,
            };
            if let Some(c) = replacement {
                out.push(c);
                i += 2;
                continue;
            }
        }
        out.push(raw[i]);
        i += 1;
    }
    // Only ASCII bytes were replaced, so valid UTF-8 in gives valid UTF-8 out.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(text: &str) -> Vec<Statement> {
        let mut lexer = Lexer::new(text, Arc::from(Path::new("/t.conf")));
        let mut out = Vec::new();
        loop {
            match lexer.next_statement() {
                Ok(Statement::Eof) => return out,
                Ok(s) => out.push(s),
                Err(e) => panic!("{e}"),
            }
        }
    }

    fn arg(value: &str, quote: Quote, line: usize) -> Arg {
        Arg {
            value: value.to_string(),
            quote,
            line,
        }
    }

    #[test]
    fn statement_kinds_and_lines() {
        let got = statements("a b\n;\nc 'd' {\n}");
        let expected = [
            Statement::Simple {
                name: arg("a", Quote::None, 1),
                args: vec![arg("b", Quote::None, 1)],
                line: 2,
            },
            Statement::BlockStart {
                name: arg("c", Quote::None, 3),
                args: vec![arg("d", Quote::Single, 3)],
                line: 3,
            },
            Statement::BlockEnd,
        ];
        assert_eq!(got, expected);
    }

    #[test]
    fn unescape_rules() {
        assert_eq!(unescape(br#"\"\'\\"#), "\"'\\");
        assert_eq!(unescape(br"\n\r\t"), "\n\r\t");
        assert_eq!(unescape(br"\d\ \;\{\$\"), "\\d\\ \\;\\{\\$\\");
        assert_eq!(unescape(br"\\n"), "\\n");
        assert_eq!(unescape("é\\é".as_bytes()), "é\\é");
    }

    #[test]
    fn lua_body_counts_lines_and_resumes() {
        let text = "{ a = '\\'}' -- }\n [[\n}]] }\nnext;";
        let mut lexer = Lexer::new(text, Arc::from(Path::new("/t.conf")));
        lexer.bump();
        assert_eq!(lexer.lua_body().unwrap(), " a = '\\'}' -- }\n [[\n}]] ");
        assert_eq!(lexer.line(), 3);
        match lexer.next_statement().unwrap() {
            Statement::Simple { name, line, .. } => {
                assert_eq!((name.value.as_str(), line), ("next", 4))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unterminated_lua_short_string_ends_at_newline() {
        let mut lexer = Lexer::new("{ x = 'oops\n }", Arc::from(Path::new("/t.conf")));
        lexer.bump();
        assert_eq!(lexer.lua_body().unwrap(), " x = 'oops\n ");
    }
}
