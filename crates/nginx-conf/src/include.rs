//! File loading and `include` expansion.
//!
//! Like nginx's `ngx_conf_include()`: the pattern is resolved against the
//! conf dir, expanded with glob(3)-like rules when it contains `*`, `?` or
//! `[` (sorted, hidden files skipped, no match is fine), and every resulting
//! file is parsed on its own and spliced in place of the `include`.
//! Failures read `open() "PATH" failed (2: No such file or directory)`,
//! `read() "PATH" failed (21: Is a directory)` or, for a malformed pattern,
//! `glob() "PATTERN" failed (REASON)`. Unlike glob(3), `**` matches across
//! directories (the `glob` crate's rule).
//!
//! nginx has no cycle protection (a self-including file recurses until it
//! runs out of file descriptors); here an include is refused with
//! - `include cycle "PATH"` when PATH (compared after resolving symlinks) is
//!   already being parsed further up the include chain, and
//! - `include nesting too deep (more than 64 levels)` when the chain of
//!   nested includes would exceed [`MAX_INCLUDE_DEPTH`],
//!
//! both located at the offending `include` (` in FILE:LINE`).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{parser, Directive, Document, Error};

/// Most `include` levels below the main file (or string) allowed.
pub(crate) const MAX_INCLUDE_DEPTH: usize = 64;

pub(crate) fn parse_file(path: &Path, conf_dir: &Path) -> Result<Document, Error> {
    let mut loader = Loader::new(conf_dir);
    let directives = loader.load(path, None, 0)?;
    Ok(loader.into_document(directives))
}

pub(crate) fn parse_str(text: &str, name: &Path, conf_dir: &Path) -> Result<Document, Error> {
    let mut loader = Loader::new(conf_dir);
    let directives = parser::parse(text, Arc::from(name), &mut loader, 0)?;
    Ok(loader.into_document(directives))
}

/// State shared by all files of one parse.
pub(crate) struct Loader {
    conf_dir: PathBuf,
    /// Every file read, in order; a file included twice is listed once
    /// (nginx's `-T` dump does the same).
    files: Vec<(PathBuf, String)>,
    /// Path as resolved → its shared `Arc` and index in `files`.
    known: HashMap<PathBuf, (Arc<Path>, usize)>,
    /// Canonical paths of the files currently being parsed, outermost first.
    chain: Vec<PathBuf>,
    /// How many `include`s deep the file being parsed is.
    level: usize,
}

impl Loader {
    fn new(conf_dir: &Path) -> Self {
        Loader {
            conf_dir: conf_dir.to_path_buf(),
            files: Vec::new(),
            known: HashMap::new(),
            chain: Vec::new(),
            level: 0,
        }
    }

    fn into_document(self, directives: Vec<Directive>) -> Document {
        Document {
            directives,
            files: self.files,
        }
    }

    /// Expand `include PATTERN;` found at `from:line`, inside `depth` open blocks.
    pub(crate) fn include(
        &mut self,
        pattern: &str,
        from: &Path,
        line: usize,
        depth: usize,
    ) -> Result<Vec<Directive>, Error> {
        if self.level >= MAX_INCLUDE_DEPTH {
            let msg = format!("include nesting too deep (more than {MAX_INCLUDE_DEPTH} levels)");
            return Err(Error::at(msg, from, line));
        }
        self.level += 1;
        let result = self.include_files(pattern, from, line, depth);
        self.level -= 1;
        result
    }

    fn include_files(
        &mut self,
        pattern: &str,
        from: &Path,
        line: usize,
        depth: usize,
    ) -> Result<Vec<Directive>, Error> {
        if !pattern.contains(['*', '?', '[']) {
            let path = self.conf_dir.join(pattern);
            return self.load(&path, Some((from, line)), depth);
        }
        let mut directives = Vec::new();
        for path in self.expand(pattern, from, line)? {
            directives.extend(self.load(&path, Some((from, line)), depth)?);
        }
        Ok(directives)
    }

    /// Files matching a glob pattern, sorted bytewise like glob(3) in the C locale.
    fn expand(&self, pattern: &str, from: &Path, line: usize) -> Result<Vec<PathBuf>, Error> {
        // Only the pattern itself may contain wildcards, not the conf dir.
        let full = if Path::new(pattern).is_absolute() {
            pattern.to_string()
        } else {
            let dir = glob::Pattern::escape(&self.conf_dir.to_string_lossy());
            Path::new(&dir).join(pattern).to_string_lossy().into_owned()
        };
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: true,
        };
        let paths = glob::glob_with(&full, options)
            .map_err(|e| Error::at(format!("glob() \"{full}\" failed ({e})"), from, line))?;
        // Unreadable directories are skipped, as glob(3) does without GLOB_ERR.
        let mut found: Vec<PathBuf> = paths.filter_map(Result::ok).collect();
        found.sort_by(|a, b| {
            a.as_os_str()
                .as_encoded_bytes()
                .cmp(b.as_os_str().as_encoded_bytes())
        });
        Ok(found)
    }

    /// Read and parse one file; `from` is the `include` that asked for it.
    fn load(
        &mut self,
        path: &Path,
        from: Option<(&Path, usize)>,
        depth: usize,
    ) -> Result<Vec<Directive>, Error> {
        let (file, text) = match self.known.get(path) {
            Some((file, index)) => (Arc::clone(file), self.files[*index].1.clone()),
            None => {
                let text = read(path, from)?;
                let file: Arc<Path> = Arc::from(path);
                self.known
                    .insert(path.to_path_buf(), (Arc::clone(&file), self.files.len()));
                self.files.push((path.to_path_buf(), text.clone()));
                (file, text)
            }
        };
        let canonical = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if self.chain.contains(&canonical) {
            let msg = format!("include cycle \"{}\"", path.display());
            return Err(match from {
                Some((including, line)) => Error::at(msg, including, line),
                None => Error::new(msg),
            });
        }
        self.chain.push(canonical);
        let result = parser::parse(&text, file, self, depth);
        self.chain.pop();
        result
    }
}

/// The file's text; bytes that are not UTF-8 are replaced (U+FFFD), since
/// directives are `String`s.
fn read(path: &Path, from: Option<(&Path, usize)>) -> Result<String, Error> {
    let mut file = File::open(path).map_err(|e| Error::io("open", path, &e, from))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, &e, from))?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}
