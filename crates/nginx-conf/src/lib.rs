//! nginx.conf syntax: lexer, parser, `include` expansion and a printer.
//!
//! This crate knows nginx's *syntax* only (tokens, quoting, blocks, `include`,
//! raw `*_by_lua_block` bodies). It knows nothing about what directives mean:
//! the server lowers the [`Document`] through its own directive table.
//!
//! Errors render the way nginx renders them: `unexpected "}" in /abs/nginx.conf:12`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod error;
mod include;
mod lexer;
mod parser;
mod printer;

pub use error::Error;

/// How an argument was written in the source. The server needs this because
/// nginx treats a quoted `"$foo"` and an unquoted `$foo` alike, but a few
/// directives (e.g. `if`) and the printer care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quote {
    None,
    Single,
    Double,
    /// The raw body of a `*_by_lua_block { ... }` (always the last argument).
    LuaBlock,
}

/// One argument after nginx's unescaping (`\"`, `\'`, `\\`, `\n`, `\r`, `\t`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arg {
    pub value: String,
    pub quote: Quote,
    /// Line where the argument starts (for a Lua block: the line of its `{`).
    pub line: usize,
}

/// One directive: `name args... ;` or `name args... { children }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub args: Vec<Arg>,
    /// `Some` for block directives (`http { ... }`); `None` for simple ones
    /// and for `*_by_lua_block` (whose body is the last `Arg`, `Quote::LuaBlock`).
    pub block: Option<Vec<Directive>>,
    /// The file this directive was read from (after `include` expansion).
    pub file: Arc<Path>,
    /// 1-based line of the directive name.
    pub line: usize,
}

/// A parsed configuration with every `include` expanded in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Document {
    pub directives: Vec<Directive>,
    /// Every file read, in the order read, with its text: `nginx -T` prints these.
    pub files: Vec<(PathBuf, String)>,
}

/// Parse the file at `path`; relative `include` paths resolve against `conf_dir`
/// (nginx resolves them against the directory of the main config file's prefix
/// conf dir, i.e. `dirname(-c)`), glob patterns expand in sorted order, and a
/// pattern that matches nothing is not an error (nginx behaves the same).
///
/// [`Document::files`] lists `path` first, then every included file in the
/// order read; a file included more than once is listed (and its `Arc<Path>`
/// shared) once. Include cycles and more than 64 nested includes are errors
/// (`include cycle "PATH"`, `include nesting too deep (more than 64 levels)`),
/// as are more than 256 nested blocks. Bytes that are not UTF-8 are replaced
/// by U+FFFD.
pub fn parse_file(path: &Path, conf_dir: &Path) -> Result<Document, Error> {
    include::parse_file(path, conf_dir)
}

/// Parse text that did not come from a file (`-g` directives, tests).
/// `name` is used in error messages and spans; `include` is resolved against `conf_dir`.
/// The text itself is not listed in [`Document::files`] (only included files are).
pub fn parse_str(text: &str, name: &Path, conf_dir: &Path) -> Result<Document, Error> {
    include::parse_str(text, name, conf_dir)
}

/// Render directives back as nginx syntax that parses to the same tree
/// (names, arguments, quoting kind, nesting; spans aside) — exactly so for
/// trees the parser produced. In a hand-built tree, a `Quote::None` value no
/// bare word can spell (e.g. `"a b"`) is printed, and re-parses, double-quoted.
/// 4-space indentation; `*_by_lua_block` bodies are printed verbatim.
pub fn print(directives: &[Directive]) -> String {
    printer::print(directives)
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&print(&self.directives))
    }
}

impl Directive {
    /// nginx-style location for messages: `/abs/nginx.conf:12`.
    pub fn location(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}
