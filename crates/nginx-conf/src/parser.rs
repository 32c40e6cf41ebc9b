//! Builds the directive tree of one file from the lexer's statements, in the
//! manner of nginx's `ngx_conf_parse()`: each file is parsed on its own, so a
//! `}` cannot close a block opened in the including file.
//!
//! The parser is iterative (an explicit stack of open blocks) so hostile
//! input cannot overflow the call stack; nesting is still capped at
//! [`MAX_BLOCK_DEPTH`] because the resulting tree is recursive.

use std::mem;
use std::path::Path;
use std::sync::Arc;

use crate::include::Loader;
use crate::lexer::{Lexer, Statement};
use crate::{Arg, Directive, Error, Quote};

/// Most nested blocks allowed, counted across included files. nginx has no
/// such limit, but no real configuration comes near it. Exceeding it gives
/// `too many nested blocks (more than 256 levels)`.
pub(crate) const MAX_BLOCK_DEPTH: usize = 256;

/// Parse `text`, the contents of `file`, whose first directive sits inside
/// `depth` already-open blocks. `include` directives are expanded through `loader`.
pub(crate) fn parse(
    text: &str,
    file: Arc<Path>,
    loader: &mut Loader,
    depth: usize,
) -> Result<Vec<Directive>, Error> {
    let mut lexer = Lexer::new(text, file);
    // Each open block with the directive list of its parent as it was when
    // the block opened; `current` collects the innermost block's children.
    let mut open: Vec<(Directive, Vec<Directive>)> = Vec::new();
    let mut current: Vec<Directive> = Vec::new();
    loop {
        match lexer.next_statement()? {
            Statement::Eof => {
                if !open.is_empty() {
                    return Err(located(&lexer, "unexpected end of file, expecting \"}\""));
                }
                return Ok(current);
            }
            Statement::BlockEnd => {
                let Some((mut block, parent)) = open.pop() else {
                    return Err(located(&lexer, "unexpected \"}\""));
                };
                block.block = Some(mem::replace(&mut current, parent));
                current.push(block);
            }
            Statement::Simple { name, args, line } => {
                if name.value == "include" {
                    if args.len() != 1 {
                        let msg = "invalid number of arguments in \"include\" directive";
                        return Err(Error::at(msg, lexer.file(), line));
                    }
                    let nested = depth + open.len();
                    let included = loader.include(&args[0].value, lexer.file(), line, nested)?;
                    current.extend(included);
                } else {
                    current.push(directive(name, args, lexer.file()));
                }
            }
            Statement::BlockStart { name, args, line } => {
                if name.value == "include" {
                    let msg = "directive \"include\" is not terminated by \";\"";
                    return Err(Error::at(msg, lexer.file(), line));
                }
                let mut d = directive(name, args, lexer.file());
                if d.name.ends_with("_by_lua_block") {
                    let value = lexer.lua_body()?;
                    d.args.push(Arg {
                        value,
                        quote: Quote::LuaBlock,
                        line,
                    });
                    current.push(d);
                } else {
                    if depth + open.len() >= MAX_BLOCK_DEPTH {
                        let msg =
                            format!("too many nested blocks (more than {MAX_BLOCK_DEPTH} levels)");
                        return Err(Error::at(msg, lexer.file(), line));
                    }
                    open.push((d, mem::take(&mut current)));
                }
            }
        }
    }
}

fn located(lexer: &Lexer<'_>, message: &str) -> Error {
    Error::at(message, lexer.file(), lexer.line())
}

fn directive(name: Arg, args: Vec<Arg>, file: &Arc<Path>) -> Directive {
    Directive {
        line: name.line,
        name: name.value,
        args,
        block: None,
        file: Arc::clone(file),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use crate::{parse_str, Directive, Document, Error, Quote};

    const FILE: &str = "/etc/nginx/nginx.conf";

    fn parse(text: &str) -> Result<Document, Error> {
        parse_str(text, FILE.as_ref(), "/nonexistent-nginx-conf-dir".as_ref())
    }

    fn ok(text: &str) -> Vec<Directive> {
        match parse(text) {
            Ok(doc) => doc.directives,
            Err(e) => panic!("parse failed: {e}\n--- input ---\n{text}"),
        }
    }

    /// The full error text, `... in /etc/nginx/nginx.conf:LINE`.
    fn err(text: &str) -> String {
        match parse(text) {
            Ok(doc) => panic!("expected an error, got {:?}", doc.directives),
            Err(e) => e.to_string(),
        }
    }

    fn at(message: &str, line: usize) -> String {
        format!("{message} in {FILE}:{line}")
    }

    fn values(d: &Directive) -> Vec<&str> {
        d.args.iter().map(|a| a.value.as_str()).collect()
    }

    fn quotes(d: &Directive) -> Vec<Quote> {
        d.args.iter().map(|a| a.quote).collect()
    }

    fn lua_body(d: &Directive) -> &str {
        let last = d.args.last().expect("lua block argument");
        assert_eq!(last.quote, Quote::LuaBlock, "{d:?}");
        assert!(d.block.is_none());
        &last.value
    }

    #[test]
    fn simple_and_nested_directives() {
        let ds = ok("worker_processes 4;\nevents {\n    worker_connections 1024;\n}\nhttp {\n  server {\n    listen 80;\n    location / { return 200; }\n  }\n}\n");
        assert_eq!(ds.len(), 3);
        assert_eq!(ds[0].name, "worker_processes");
        assert_eq!(values(&ds[0]), ["4"]);
        assert_eq!((ds[0].line, ds[0].args[0].line), (1, 1));
        assert_eq!(ds[0].file.to_str(), Some(FILE));
        assert!(ds[0].block.is_none());
        let events = ds[1].block.as_ref().unwrap();
        assert_eq!(
            (events[0].name.as_str(), events[0].line),
            ("worker_connections", 3)
        );
        let http = ds[2].block.as_ref().unwrap();
        let server = http[0].block.as_ref().unwrap();
        assert_eq!(server[0].name, "listen");
        let location = &server[1];
        assert_eq!((location.name.as_str(), location.line), ("location", 8));
        assert_eq!(values(location), ["/"]);
        let ret = &location.block.as_ref().unwrap()[0];
        assert_eq!((ret.name.as_str(), values(ret)), ("return", vec!["200"]));
        assert_eq!(ds[2].location(), format!("{FILE}:5"));
        assert!(ok("").is_empty());
        assert_eq!(ok("a{}")[0].block, Some(vec![]));
    }

    #[test]
    fn arguments_spanning_lines_keep_their_own_line() {
        let ds = ok("\n\nlog_format main\n   '$remote_addr'\n   \"$status\";\n");
        assert_eq!(ds[0].line, 3);
        let lines: Vec<usize> = ds[0].args.iter().map(|a| a.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        let ds = ok("a 'x\ny\nz' b;");
        assert_eq!(values(&ds[0]), ["x\ny\nz", "b"]);
        assert_eq!(ds[0].args[1].line, 3);
    }

    #[test]
    fn crlf_and_tabs_are_whitespace() {
        let ds = ok("a\tb;\r\nc {\r\n\td;\r\n}\r\n");
        assert_eq!(values(&ds[0]), ["b"]);
        assert_eq!(ds[1].block.as_ref().unwrap()[0].line, 3);
    }

    #[test]
    fn comments() {
        let ds =
            ok("# leading\na b; # trailing { } ;\n#x;\nc d#e;\n  # indented\nf 'g # h'; # at eof");
        assert_eq!(ds.len(), 3);
        assert_eq!(values(&ds[0]), ["b"]);
        assert_eq!((ds[1].name.as_str(), values(&ds[1])), ("c", vec!["d#e"]));
        assert_eq!(ds[1].line, 4);
        assert_eq!(values(&ds[2]), ["g # h"]);
        assert_eq!(ok("a#b c;")[0].name, "a#b");
        assert!(ok("# only a comment").is_empty());
        // A comment inside a directive is skipped like whitespace.
        assert_eq!(values(&ok("a b # c\n d;")[0]), ["b", "d"]);
    }

    #[test]
    fn quotes_and_escapes() {
        let ds = ok(r#"a "dq" 'sq' bare "" '';"#);
        assert_eq!(values(&ds[0]), ["dq", "sq", "bare", "", ""]);
        use Quote::*;
        assert_eq!(quotes(&ds[0]), [Double, Single, None, Double, Single]);

        let escapes = r#"\" \' \\ \n \r \t \d \$"#;
        let expected = "\" ' \\ \n \r \t \\d \\$";
        let ds = ok(&format!("a \"{escapes}\" '{escapes}';"));
        assert_eq!(values(&ds[0]), [expected, expected]);
        let ds = ok(r#"a \"x \'y \\z w\n v\r u\t \.php$;"#);
        assert_eq!(
            values(&ds[0]),
            ["\"x", "'y", "\\z", "w\n", "v\r", "u\t", "\\.php$"]
        );
        // An escaped quote does not close, an escaped space does not separate
        // (but, not being a known escape, keeps its backslash).
        assert_eq!(values(&ok(r#"a "x\"y" 'p\'q';"#)[0]), ["x\"y", "p'q"]);
        assert_eq!(values(&ok(r"a b\ c\;d;")[0]), [r"b\ c\;d"]);
        // Quotes inside a bare word are ordinary characters.
        assert_eq!(values(&ok(r#"a b"c'd;"#)[0]), ["b\"c'd"]);
        // `}` and `#` inside a bare word too.
        assert_eq!(values(&ok("a b}c#d;")[0]), ["b}c#d"]);
    }

    #[test]
    fn quoted_string_followed_by_paren_or_terminator() {
        let ds = ok("if ($a = \"b\") { return 403; }");
        assert_eq!(values(&ds[0]), ["($a", "=", "b", ")"]);
        assert_eq!(values(&ok("a \"b\";")[0]), ["b"]);
        assert_eq!(ok("a 'b'{}")[0].block, Some(vec![]));
    }

    #[test]
    fn dollar_brace_stays_in_the_token() {
        let ds = ok("return 200 ${foo}bar;");
        assert_eq!(values(&ds[0]), ["200", "${foo}bar"]);
        assert!(ds[0].block.is_none());
        assert_eq!(values(&ok("set $a ${b}${c};")[0]), ["$a", "${b}${c}"]);
        assert_eq!(values(&ok("a ${{x}};")[0]), ["${{x}}"]);
        // Only a `{` right after `$` is kept: this one opens a block.
        let ds = ok("location ~ ^/a$ {}");
        assert_eq!(values(&ds[0]), ["~", "^/a$"]);
        let ds = ok("a b{c;}");
        assert_eq!(values(&ds[0]), ["b"]);
        assert_eq!(ds[0].block.as_ref().unwrap()[0].name, "c");
        // An escaped `$` does not protect the brace.
        let ds = ok(r"a \${c;}");
        assert_eq!(values(&ds[0]), [r"\$"]);
    }

    #[test]
    fn lua_block_with_tricky_body() {
        let body = r#"
    local t = { a = { 1, 2 } }
    ngx.say("}")
    ngx.say('}}} {')
    ngx.say("escaped \" } quote", 'and \' } this')
    local s = [[ } ]] .. [==[ ]] } ]=] ]==]
    -- a comment with } braces {
    --[[ long comment }
    }} ]]
    --[==[ long ]] comment } ]==]
    if t then ngx.say(t[1]) end
"#;
        let ds = ok(&format!("content_by_lua_block {{{body}}}\nlisten 80;\n"));
        assert_eq!(ds.len(), 2);
        assert_eq!(lua_body(&ds[0]), body);
        assert_eq!(ds[0].args.len(), 1);
        assert_eq!((ds[1].name.as_str(), ds[1].line), ("listen", 13));
    }

    #[test]
    fn lua_block_last_in_http() {
        let ds = ok("http {\n    init_by_lua_block {\n        require \"x\"\n    }\n}\n");
        let http = ds[0].block.as_ref().unwrap();
        assert_eq!(http.len(), 1);
        assert_eq!(http[0].name, "init_by_lua_block");
        assert_eq!(lua_body(&http[0]), "\n        require \"x\"\n    ");
        assert_eq!(http[0].args[0].line, 2);
    }

    #[test]
    fn lua_block_args_lines_and_spelling() {
        let ds = ok("set_by_lua_block $res\n{ return 1 }");
        assert_eq!(values(&ds[0]), ["$res", " return 1 "]);
        assert_eq!(quotes(&ds[0]), [Quote::None, Quote::LuaBlock]);
        assert_eq!((ds[0].line, ds[0].args[1].line), (1, 2));
        assert_eq!(lua_body(&ok("content_by_lua_block{}")[0]), "");
        assert_eq!(lua_body(&ok("'access_by_lua_block' {x()}")[0]), "x()");
        // Immediately followed by another directive, no `;` needed.
        let ds = ok("a_by_lua_block {f()}b;");
        assert_eq!((ds.len(), ds[1].name.as_str()), (2, "b"));
        // Without `{` it is an ordinary directive (the server complains).
        let ds = ok("content_by_lua_block x;");
        assert_eq!(
            (values(&ds[0]), ds[0].args[0].quote),
            (vec!["x"], Quote::None)
        );
        // Only `[` `=`* `[` opens a long string; `a[b[1]]` is indexing.
        assert_eq!(
            lua_body(&ok("x_by_lua_block {a[b[1]] = {} [=x}")[0]),
            "a[b[1]] = {} [=x"
        );
    }

    #[test]
    fn lua_string_form() {
        let ds = ok(r#"content_by_lua 'ngx.say(\'hi\') ngx.say(\"}\")';"#);
        assert_eq!(values(&ds[0]), [r#"ngx.say('hi') ngx.say("}")"#]);
        assert_eq!(ds[0].args[0].quote, Quote::Single);
        let ds = ok(r#"content_by_lua "ngx.say(\"a\\n\")";"#);
        assert_eq!(values(&ds[0]), ["ngx.say(\"a\\n\")"]);
    }

    #[test]
    fn unexpected_close_brace() {
        assert_eq!(err("a;\n}\n"), at("unexpected \"}\"", 2));
        assert_eq!(err("http {\n}\n}"), at("unexpected \"}\"", 3));
        assert_eq!(err("http {\n a b }\n"), at("unexpected \"}\"", 2));
        assert_eq!(err("a \"b\"}"), at("unexpected \"}\"", 1));
    }

    #[test]
    fn unexpected_end_of_file() {
        let semi = "unexpected end of file, expecting \";\" or \"}\"";
        assert_eq!(err("a b"), at(semi, 1));
        assert_eq!(err("a b\n\n"), at(semi, 3));
        assert_eq!(err("a \"b;\n"), at(semi, 2));
        assert_eq!(err("a 'b\\'"), at(semi, 1));
        assert_eq!(err("a b\\"), at(semi, 1));
        assert_eq!(err("a \"b\""), at(semi, 1));
        assert_eq!(err("a # comment"), at(semi, 1));
        let brace = "unexpected end of file, expecting \"}\"";
        assert_eq!(err("http {\n"), at(brace, 2));
        assert_eq!(err("http {\n server {\n }"), at(brace, 3));
        assert_eq!(err("content_by_lua_block {\n ngx.say(1)\n"), at(brace, 3));
        assert_eq!(err("content_by_lua_block { ngx.say('}"), at(brace, 1));
        assert_eq!(err("content_by_lua_block {\n[==[ }]=]\n}"), at(brace, 3));
        assert_eq!(err("content_by_lua_block { --[[ } \n}"), at(brace, 2));
        assert_eq!(err("content_by_lua_block { {}"), at(brace, 1));
    }

    #[test]
    fn unexpected_semicolon_and_open_brace() {
        assert_eq!(err(";"), at("unexpected \";\"", 1));
        assert_eq!(err("a;\n\n ;"), at("unexpected \";\"", 3));
        assert_eq!(err("http {\n {\n"), at("unexpected \"{\"", 2));
        assert_eq!(err("{}"), at("unexpected \"{\"", 1));
    }

    #[test]
    fn unexpected_character_after_quoted_string() {
        assert_eq!(err("a \"b\"c;"), at("unexpected \"c\"", 1));
        assert_eq!(err("a\n'b'\"c\";"), at("unexpected \"\"\"", 2));
        assert_eq!(err("a 'b'#c;"), at("unexpected \"#\"", 1));
        assert_eq!(err("a 'b'é;"), at("unexpected \"é\"", 1));
    }

    #[test]
    fn include_directive_errors() {
        let args = "invalid number of arguments in \"include\" directive";
        assert_eq!(err("include;"), at(args, 1));
        assert_eq!(err("http {\ninclude a\n b;}"), at(args, 3));
        let block = "directive \"include\" is not terminated by \";\"";
        assert_eq!(err("\ninclude a {}"), at(block, 2));
    }

    #[test]
    fn nesting_is_limited() {
        let deep = |n: usize| "a {".repeat(n) + &"}".repeat(n);
        assert_eq!(ok(&deep(super::MAX_BLOCK_DEPTH)).len(), 1);
        let msg = "too many nested blocks (more than 256 levels)";
        assert_eq!(err(&deep(super::MAX_BLOCK_DEPTH + 1)), at(msg, 1));
    }

    #[test]
    fn strings_are_not_listed_as_files() {
        let doc = parse("a;").unwrap();
        assert!(doc.files.is_empty());
        assert_eq!(PathBuf::from(&*doc.directives[0].file), PathBuf::from(FILE));
    }
}
