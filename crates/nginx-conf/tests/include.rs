//! `include` expansion against the fixture trees in `tests/fixtures/` and
//! against scratch directories made by the tests.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nginx_conf::{parse_file, parse_str, Directive, Error};

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

fn find<'a>(ds: &'a [Directive], name: &str) -> Vec<&'a Directive> {
    ds.iter().filter(|d| d.name == name).collect()
}

fn children(d: &Directive) -> &[Directive] {
    d.block.as_deref().expect("a block directive")
}

fn err_string(result: Result<nginx_conf::Document, Error>) -> String {
    match result {
        Ok(doc) => panic!("expected an error, got {}", doc),
        Err(e) => e.to_string(),
    }
}

/// A scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("nginx-conf-{}-{tag}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[test]
fn relative_and_glob_includes_expand_in_place() {
    let dir = fixtures("include");
    let doc = parse_file(&dir.join("main.conf"), &dir).unwrap();
    let http = children(find(&doc.directives, "http")[0]);

    // mime.types is spliced where the include stood; the include itself is gone.
    assert!(find(http, "include").is_empty());
    assert_eq!(http[0].name, "types");
    assert_eq!(http[0].file.as_ref(), dir.join("mime.types"));
    assert_eq!(http[0].line, 1);
    let json = &children(&http[0])[1];
    assert_eq!((json.name.as_str(), json.line), ("application/json", 3));

    // conf.d/*.conf in bytewise order; hidden files and other suffixes skipped.
    let order: Vec<&str> = find(http, "set")
        .iter()
        .map(|d| d.args[1].value.as_str())
        .collect();
    assert_eq!(order, ["10", "2", "b"]);
    assert!(find(http, "hidden").is_empty() && find(http, "txt").is_empty());
    let names: Vec<&str> = http.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "types",
            "set",
            "set",
            "init_by_lua_block",
            "set",
            "server",
            "server"
        ]
    );
    let lua = &http[3];
    assert_eq!(lua.args[0].value, "\n    ngx.log(ngx.INFO, \"}\")\n");
    assert_eq!(
        (lua.line, lua.file.as_ref()),
        (2, dir.join("conf.d/a.conf").as_path())
    );

    // The same file included twice: same directives, one shared Arc.
    let servers = find(http, "server");
    let listen_a = &children(servers[0])[0];
    let listen_b = &children(servers[1])[0];
    assert_eq!(
        (listen_a.name.as_str(), listen_b.name.as_str()),
        ("listen", "listen")
    );
    assert!(Arc::ptr_eq(&listen_a.file, &listen_b.file));
    // Directives of the main file share its Arc too.
    assert!(Arc::ptr_eq(
        &doc.directives[0].file,
        &doc.directives[1].file
    ));
    assert_eq!(servers[1].file.as_ref(), dir.join("main.conf"));
    assert_eq!(servers[1].line, 13);

    // Files in the order read, each once, with their text.
    let files: Vec<PathBuf> = doc.files.iter().map(|(p, _)| p.clone()).collect();
    let expected: Vec<PathBuf> = [
        "main.conf",
        "mime.types",
        "conf.d/10-x.conf",
        "conf.d/2-y.conf",
        "conf.d/a.conf",
        "conf.d/b.conf",
        "twice.conf",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    assert_eq!(files, expected);
    for (path, text) in &doc.files {
        assert_eq!(text, &fs::read_to_string(path).unwrap());
    }
}

#[test]
fn absolute_includes_ignore_conf_dir() {
    let dir = fixtures("include");
    let text = format!(
        "http {{\n    include {};\n    include {}/conf.d/[ab].conf;\n}}\n",
        dir.join("mime.types").display(),
        dir.display()
    );
    let doc = parse_str(&text, Path::new("/virtual.conf"), Path::new("/nonexistent")).unwrap();
    let http = children(&doc.directives[0]);
    let names: Vec<&str> = http.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["types", "init_by_lua_block", "set"]);
    assert_eq!(doc.directives[0].file.as_ref(), Path::new("/virtual.conf"));
    assert_eq!(doc.files.len(), 3);
}

#[test]
fn glob_without_match_is_not_an_error() {
    let doc = parse_str(
        "include /nonexistent-nginx-conf-dir/*.conf;\ninclude none?.conf;\na;",
        Path::new("/x.conf"),
        &fixtures("include"),
    )
    .unwrap();
    assert_eq!(doc.directives.len(), 1);
    assert!(doc.files.is_empty());
}

#[test]
fn missing_include_names_the_including_file_and_line() {
    let dir = fixtures("missing");
    let err = parse_file(&dir.join("main.conf"), &dir).unwrap_err();
    let expected = format!(
        "open() \"{}\" failed (2: No such file or directory) in {}:3",
        dir.join("nope.conf").display(),
        dir.join("main.conf").display()
    );
    assert_eq!(err.to_string(), expected);
    assert_eq!(err.file.as_deref(), Some(dir.join("main.conf").as_path()));
    assert_eq!(err.line, 3);
}

#[test]
fn missing_main_file_has_no_location() {
    let path = fixtures("missing").join("does-not-exist.conf");
    let err = parse_file(&path, &fixtures("missing")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "open() \"{}\" failed (2: No such file or directory)",
            path.display()
        )
    );
    assert_eq!((err.file, err.line), (None, 0));
}

#[test]
fn reading_a_directory_fails_on_read() {
    let dir = fixtures("include");
    let text = err_string(parse_str("include conf.d;", Path::new("/m.conf"), &dir));
    assert_eq!(
        text,
        format!(
            "read() \"{}\" failed (21: Is a directory) in /m.conf:1",
            dir.join("conf.d").display()
        )
    );
}

#[test]
fn include_cycle_is_an_error() {
    let dir = fixtures("cycle");
    let text = err_string(parse_file(&dir.join("a.conf"), &dir));
    let expected = format!(
        "include cycle \"{}\" in {}:3",
        dir.join("a.conf").display(),
        dir.join("b.conf").display()
    );
    assert_eq!(text, expected);
}

#[test]
fn glob_that_matches_its_own_file_is_a_cycle() {
    let scratch = Scratch::new("self-glob");
    let main = scratch.write("all.conf", "x on;\ninclude *.conf;\n");
    let text = err_string(parse_file(&main, &scratch.0));
    assert_eq!(
        text,
        format!("include cycle \"{0}\" in {0}:2", main.display())
    );
}

#[test]
fn include_nesting_is_limited_to_64_levels() {
    let scratch = Scratch::new("depth");
    for i in 0..=65 {
        scratch.write(
            &format!("f{i}.conf"),
            &format!("level{i};\ninclude f{}.conf;\n", i + 1),
        );
    }
    // f64 includes f65, which would be the 65th level.
    let text = err_string(parse_file(&scratch.0.join("f0.conf"), &scratch.0));
    let f64 = scratch.0.join("f64.conf");
    assert_eq!(
        text,
        format!(
            "include nesting too deep (more than 64 levels) in {}:2",
            f64.display()
        )
    );

    // 64 levels are fine.
    scratch.write("f64.conf", "level64;\n");
    let doc = parse_file(&scratch.0.join("f0.conf"), &scratch.0).unwrap();
    assert_eq!(doc.directives.len(), 65);
    assert_eq!(doc.directives[64].name, "level64");
    assert_eq!(doc.files.len(), 65);
}

#[test]
fn included_file_cannot_close_the_including_block() {
    let dir = fixtures("bad");
    let text = err_string(parse_file(&dir.join("main.conf"), &dir));
    assert_eq!(
        text,
        format!(
            "unexpected \"}}\" in {}:3",
            dir.join("close.conf").display()
        )
    );
}

#[test]
fn include_inside_any_block_and_lua_bodies_are_left_alone() {
    let scratch = Scratch::new("contexts");
    scratch.write("inner.conf", "inner on;\n");
    let main = scratch.write(
        "main.conf",
        "a {\n b {\n  c {\n   include inner.conf;\n  }\n }\n}\n\
         content_by_lua_block { -- include inner.conf;\n}\n",
    );
    let doc = parse_file(&main, &scratch.0).unwrap();
    let c = &children(&children(&doc.directives[0])[0])[0];
    assert_eq!(children(c)[0].name, "inner");
    assert_eq!(children(c)[0].file.as_ref(), scratch.0.join("inner.conf"));
    assert_eq!(doc.directives[1].args[0].value, " -- include inner.conf;\n");
}

#[test]
fn non_utf8_bytes_are_replaced() {
    let scratch = Scratch::new("latin1");
    let path = scratch.0.join("main.conf");
    fs::write(&path, b"a caf\xe9;\n").unwrap();
    let doc = parse_file(&path, &scratch.0).unwrap();
    assert_eq!(doc.directives[0].args[0].value, "caf\u{fffd}");
}

#[test]
fn invalid_glob_pattern_is_an_error() {
    let text = err_string(parse_str(
        "\ninclude a[.conf;",
        Path::new("/m.conf"),
        Path::new("/etc/nginx"),
    ));
    assert!(
        text.starts_with("glob() \"/etc/nginx/a[.conf\" failed (")
            && text.ends_with(") in /m.conf:2"),
        "{text}"
    );
}
