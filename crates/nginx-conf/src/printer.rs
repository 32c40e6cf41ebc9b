//! Renders a directive tree as nginx syntax (4-space indentation).
//!
//! Guarantee: for trees produced by the parser, parsing the output yields the
//! same names, argument values, quoting kinds and nesting. Every value a bare
//! word produced can be spelled as a bare word again, but a hand-built
//! `Quote::None` value may not be (empty; a space, `;` or a `{` outside a `${`
//! run without a backslash before it; a leading `}` or `#`): such a value is
//! printed double-quoted and re-parses as `Quote::Double`. Names, which do not
//! record their quoting, follow the `Quote::None` rule.
//!
//! A `Quote::LuaBlock` argument is printed as ` {BODY}` verbatim; that
//! re-parses only if it is the last argument of a directive whose name ends
//! in `_by_lua_block` and BODY has balanced braces outside Lua strings and
//! comments, which holds for every body the parser produced.

use std::fmt::Write;

use crate::{Directive, Quote};

pub(crate) fn print(directives: &[Directive]) -> String {
    let mut out = String::new();
    print_block(&mut out, directives, 0);
    out
}

fn print_block(out: &mut String, directives: &[Directive], depth: usize) {
    for d in directives {
        indent(out, depth);
        word(out, &d.name, Quote::None);
        for arg in &d.args {
            if arg.quote == Quote::LuaBlock {
                let _ = write!(out, " {{{}}}", arg.value);
            } else {
                out.push(' ');
                word(out, &arg.value, arg.quote);
            }
        }
        let lua = d.args.last().is_some_and(|a| a.quote == Quote::LuaBlock);
        match &d.block {
            Some(children) => {
                out.push_str(" {\n");
                print_block(out, children, depth + 1);
                indent(out, depth);
                out.push_str("}\n");
            }
            None if lua => out.push('\n'),
            None => out.push_str(";\n"),
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("    ");
    }
}

/// Append one word written with `quote` (or double quotes when a bare word
/// cannot carry the value).
fn word(out: &mut String, value: &str, quote: Quote) {
    match quote {
        Quote::Single => quoted(out, value, '\''),
        Quote::None => match bare(value) {
            Some(text) => out.push_str(&text),
            None => quoted(out, value, '"'),
        },
        Quote::Double | Quote::LuaBlock => quoted(out, value, '"'),
    }
}

/// The lexer keeps a backslash pair it does not know (`\d` stays `\d`), so a
/// backslash only needs doubling when the next character would otherwise
/// form a known escape, or when it is last (it would escape the delimiter).
fn needs_doubling(next: Option<char>) -> bool {
    matches!(next, None | Some('"' | '\'' | '\\' | 'n' | 'r' | 't'))
}

/// `value` between `q` quotes. Newlines and tabs stay literal: nginx allows
/// them inside quotes, and multi-line `*_by_lua '...'` code stays readable.
fn quoted(out: &mut String, value: &str, q: char) {
    out.push(q);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if needs_doubling(chars.peek().copied()) => out.push_str("\\\\"),
            '\\' => {
                // A kept pair: the next character is taken literally whatever it is.
                out.push('\\');
                out.extend(chars.next());
            }
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(q);
}

/// `value` as an unquoted word, if one can spell it. Mirrors the lexer's rule
/// that `{` ends a bare word unless it follows `$` (or such a `{`).
fn bare(value: &str) -> Option<String> {
    if value.is_empty() || value.starts_with(['}', '#']) {
        return None;
    }
    let mut out = String::with_capacity(value.len());
    let mut variable = false;
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        match c {
            // `\$` rather than `\$`: an escaped `$` would not protect a following `{`.
            '\\' if needs_doubling(next) || next == Some('$') => out.push_str("\\\\"),
            '\\' => {
                out.push('\\');
                out.extend(chars.next());
            }
            '"' | '\'' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' ' | ';' => return None,
            '{' if !variable => return None,
            c => out.push(c),
        }
        variable = c == '$' || (c == '{' && variable);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(value: &str, quote: Quote) -> String {
        let mut out = String::new();
        word(&mut out, value, quote);
        out
    }

    #[test]
    fn bare_words_stay_bare() {
        assert_eq!(w("on", Quote::None), "on");
        assert_eq!(w("${foo}bar", Quote::None), "${foo}bar");
        assert_eq!(w("~*\\.php$", Quote::None), "~*\\.php$");
        assert_eq!(w("a\"b", Quote::None), "a\\\"b");
        assert_eq!(w("a\nb", Quote::None), "a\\nb");
        assert_eq!(w("a\\", Quote::None), "a\\\\");
        assert_eq!(w("a\\;b", Quote::None), "a\\;b");
        assert_eq!(w("a\\ b", Quote::None), "a\\ b");
        assert_eq!(w("\\${x}", Quote::None), "\\\\${x}");
    }

    #[test]
    fn unspellable_bare_words_get_double_quotes() {
        assert_eq!(w("", Quote::None), "\"\"");
        assert_eq!(w("a b", Quote::None), "\"a b\"");
        assert_eq!(w("a;", Quote::None), "\"a;\"");
        assert_eq!(w("{x}", Quote::None), "\"{x}\"");
        assert_eq!(w("#x", Quote::None), "\"#x\"");
        assert_eq!(w("}x", Quote::None), "\"}x\"");
    }

    #[test]
    fn quoted_words_escape_their_quote_and_backslashes() {
        assert_eq!(w("it's", Quote::Single), "'it\\'s'");
        assert_eq!(w("say \"hi\"", Quote::Double), "\"say \\\"hi\\\"\"");
        assert_eq!(w("a\"b", Quote::Single), "'a\"b'");
        assert_eq!(w("\\n", Quote::Double), "\"\\\\n\"");
        assert_eq!(w("\\d+", Quote::Double), "\"\\d+\"");
        assert_eq!(w("line1\nline2", Quote::Single), "'line1\nline2'");
    }
}
