//! Property tests: the parser never panics, and `print` is an inverse of
//! `parse` on the tree level.
//!
//! "Same tree" means the same [`Node`] shape: directive names, every
//! argument's value *and* quoting kind (`None`/`Single`/`Double`/`LuaBlock`),
//! and block nesting. File/line spans are ignored (the printed text has its
//! own line numbers).

use std::path::Path;
use std::sync::Arc;

use nginx_conf::{parse_str, print, Arg, Directive, Quote};
use proptest::prelude::*;
use proptest::sample::select;

const NAME: &str = "/prop/nginx.conf";
const NO_DIR: &str = "/nonexistent-nginx-conf-prop-dir";

#[derive(Debug, PartialEq, Eq)]
struct Node {
    name: String,
    args: Vec<(String, Quote)>,
    block: Option<Vec<Node>>,
}

fn shape(ds: &[Directive]) -> Vec<Node> {
    ds.iter()
        .map(|d| Node {
            name: d.name.clone(),
            args: d.args.iter().map(|a| (a.value.clone(), a.quote)).collect(),
            block: d.block.as_deref().map(shape),
        })
        .collect()
}

fn parse(text: &str) -> Result<Vec<Directive>, nginx_conf::Error> {
    parse_str(text, Path::new(NAME), Path::new(NO_DIR)).map(|doc| doc.directives)
}

/// Parse never panics; errors point into the input; what parses survives
/// print → parse unchanged.
fn check_text(text: &str) -> Result<(), TestCaseError> {
    match parse(text) {
        Ok(tree) => {
            let printed = print(&tree);
            let again = parse(&printed).map_err(|e| {
                TestCaseError::fail(format!("reprint failed: {e}\n--- printed ---\n{printed}"))
            })?;
            prop_assert_eq!(shape(&again), shape(&tree), "printed:\n{}", printed);
        }
        Err(e) => {
            prop_assert_eq!(e.file.as_deref(), Some(Path::new(NAME)));
            let lines = text.matches('\n').count() + 1;
            prop_assert!(
                (1..=lines).contains(&e.line),
                "line {} of {}: {}",
                e.line,
                lines,
                e
            );
        }
    }
    Ok(())
}

/// Pieces of nginx and Lua syntax, glued together at random.
fn token_soup() -> impl Strategy<Value = String> {
    let tokens = vec![
        "{",
        "}",
        ";",
        "\"",
        "'",
        "\\",
        "#",
        "$",
        "${",
        "}",
        " ",
        " ",
        "\n",
        "\t",
        "\r\n",
        "a",
        "b",
        "x_by_lua_block",
        "content_by_lua_block",
        "[[",
        "]]",
        "[=[",
        "]=]",
        "--",
        "--[[",
        "\"a b\"",
        "'c;'",
        "(",
        ")",
        "\\n",
        "\\\"",
        "é",
        "=",
        "$v",
        "{}",
        "server",
        "-",
    ];
    prop::collection::vec(select(tokens), 0..48).prop_map(|ts| ts.concat())
}

/// Statements made of words in many spellings; unbalanced `}` make some fail.
fn statement_soup() -> impl Strategy<Value = String> {
    let words = vec![
        "a",
        "listen",
        "${v}x",
        "$v{",
        "a#b",
        "x}y",
        "\\.php$",
        "a\\ b",
        "a\\;b",
        "\\\"q",
        "\\'q",
        "a\\nb",
        "\\\\",
        "$\\{",
        "\\$",
        "\"d q\"",
        "\"d\\\"q\"",
        "'s q'",
        "'s\\'q'",
        "\"multi\nline\"",
        "''",
        "\"\"",
        "\"\\t\\r\\n\\d\"",
        "é",
        "($a",
        ")",
        "\"b\")",
    ];
    let lua = vec![
        " content_by_lua_block { ngx.say(\"}\") }",
        " set_by_lua_block $x {return [=[}]=] -- }\n}",
        " init_by_lua_block {\n--[[ } ]]\n}",
    ];
    let terminators = vec![";", " {", "}", ";", "; }", ";\n", " {\n", "\n}"];
    let statement = prop_oneof![
        4 => (prop::collection::vec(select(words), 1..4), select(terminators))
            .prop_map(|(ws, t)| ws.join(" ") + t),
        1 => select(lua).prop_map(str::to_string),
        1 => Just("# comment { ;\n".to_string()),
    ];
    prop::collection::vec(statement, 0..12).prop_map(|ss| ss.join(" "))
}

// --- generated trees ---

fn ident() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,10}"
}

/// Any text, heavy on characters that need quoting or escaping.
fn wild_text() -> impl Strategy<Value = String> {
    let chars = vec![
        'a', 'z', '0', ' ', '\t', '\n', '\r', '"', '\'', '\\', ';', '{', '}', '#', '$', 'n', 't',
        'r', 'd', '(', ')', 'é', '[', ']', '-',
    ];
    prop::collection::vec(select(chars), 0..12).prop_map(|cs| cs.into_iter().collect())
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![3 => ident(), 1 => wild_text()].prop_filter("reserved name", |n| {
        n != "include" && !n.ends_with("_by_lua_block")
    })
}

/// Values an unquoted word can spell (the printer keeps them bare).
fn bare_value() -> impl Strategy<Value = String> {
    let pieces = vec![
        "a", "Z9", "$x", "${y}", "${{z}}", "\\", "\\d", "\\ ", "\\;", "\\{", "\"", "'", "\n", "\t",
        "\r", "}", "#", "/", ".", "é", "(", ")", "=", "~", "^", "*",
    ];
    prop::collection::vec(select(pieces), 1..6)
        .prop_map(|ps| ps.concat())
        .prop_filter("starts a comment or closes a block", |v| {
            !v.starts_with(['}', '#'])
        })
}

fn arg() -> impl Strategy<Value = Arg> {
    let mk = |value: String, quote: Quote| Arg {
        value,
        quote,
        line: 0,
    };
    prop_oneof![
        bare_value().prop_map(move |v| mk(v, Quote::None)),
        wild_text().prop_map(move |v| mk(v, Quote::Single)),
        wild_text().prop_map(move |v| mk(v, Quote::Double)),
    ]
}

/// Lua code whose braces balance once strings, long strings and comments are
/// skipped, built from pieces that each do.
fn lua_body() -> impl Strategy<Value = String> {
    let pieces = vec![
        "ngx.say(\"}\")",
        "local t = { a = { 1 } }",
        "x = '{'",
        "s = \"\\\"}\"",
        "[[ } ]]",
        "[==[ ]] } ]=] ]==]",
        "-- } comment {\n",
        "--[[ { ]]",
        "--[=[ }\n]] ]=]",
        "\n",
        " ",
        "if a then b() end",
        "{ }",
        "t[1]",
        "'\\''",
        "a[b[1]]",
    ];
    prop::collection::vec(select(pieces), 0..8).prop_map(|ps| ps.concat())
}

fn directive(name: String, args: Vec<Arg>, block: Option<Vec<Directive>>) -> Directive {
    Directive {
        name,
        args,
        block,
        file: Arc::from(Path::new("/generated.conf")),
        line: 0,
    }
}

fn tree() -> impl Strategy<Value = Vec<Directive>> {
    let args = || prop::collection::vec(arg(), 0..4);
    let simple = (name(), args()).prop_map(|(n, a)| directive(n, a, None));
    let lua_names = select(vec![
        "content_by_lua_block",
        "set_by_lua_block",
        "init_by_lua_block",
    ]);
    let lua = (lua_names, args(), lua_body()).prop_map(|(n, mut a, body)| {
        a.push(Arg {
            value: body,
            quote: Quote::LuaBlock,
            line: 0,
        });
        directive(n.to_string(), a, None)
    });
    let leaf = prop_oneof![3 => simple, 1 => lua];
    let node = leaf.prop_recursive(4, 48, 5, move |inner| {
        (name(), args(), prop::collection::vec(inner, 0..5))
            .prop_map(|(n, a, children)| directive(n, a, Some(children)))
    });
    prop::collection::vec(node, 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn parse_never_panics_on_any_string(text in any::<String>()) {
        check_text(&text)?;
    }

    #[test]
    fn parse_never_panics_on_lossy_bytes(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        check_text(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn parse_never_panics_on_token_soup(text in token_soup()) {
        check_text(&text)?;
    }

    #[test]
    fn parsed_statements_survive_print(text in statement_soup()) {
        check_text(&text)?;
    }

    #[test]
    fn print_then_parse_gives_the_same_tree(tree in tree()) {
        let printed = print(&tree);
        let parsed = parse(&printed).map_err(|e| {
            TestCaseError::fail(format!("{e}\n--- printed ---\n{printed}"))
        })?;
        prop_assert_eq!(shape(&parsed), shape(&tree), "printed:\n{}", printed);
        // Printing is stable once parsed.
        prop_assert_eq!(print(&parsed), printed);
    }
}
