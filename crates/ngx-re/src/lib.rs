//! OpenResty's `ngx.re` semantics on PCRE2, without Lua.
//!
//! - [`Options`]: the option letters (`"jo"`, `"i"`, `"d"` ...) as
//!   lua-nginx-module reads them, mapped onto PCRE2 compile options.
//! - [`Regex`]: a compiled pattern (optionally JIT-compiled) with its capture
//!   count and name table, and compile errors worded as OpenResty's.
//! - [`Matcher`]: the per-VM match state (match data, match limit, JIT
//!   stack, DFA workspace) that runs a [`Regex`] from a byte offset.
//! - [`Template`]: `ngx.re.sub`/`gsub` replacement strings (`$0`, `${1}`,
//!   `$$`).
//! - [`Cache`]: the bounded compiled-regex cache behind the `o` option
//!   (`lua_regex_cache_max_entries`).
//!
//! Offsets are 0-based byte offsets; the Lua binding converts them.

mod cache;
mod matcher;
mod options;
mod regex;
mod template;

pub use cache::{Cache, Insert};
pub use matcher::{Matcher, MIN_JIT_STACK_SIZE};
pub use options::Options;
pub use regex::{CompileError, Regex};
pub use template::{Template, TemplateError};

/// PCRE2's "no match" result.
pub const NO_MATCH: i32 = pcre2_sys::PCRE2_ERROR_NOMATCH;
