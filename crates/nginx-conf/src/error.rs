//! The one error type of this crate, rendered the way nginx renders its
//! `[emerg]` messages (without the `nginx: [emerg] ` prefix).

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A syntax or include error.
///
/// `Display` gives nginx's wording, e.g. `unexpected "}" in /etc/nginx/nginx.conf:12`
/// or `open() "/etc/nginx/x.conf" failed (2: No such file or directory)`.
/// The ` in FILE:LINE` suffix is present exactly when `file` is `Some`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    /// The message without location: `unexpected "}"`.
    pub message: String,
    /// The file the error was found in (for a failed `include`: the including
    /// file); `None` when there is no location, e.g. the main file cannot be opened.
    pub file: Option<PathBuf>,
    /// 1-based line in `file`; 0 when `file` is `None`.
    pub line: usize,
}

impl Error {
    /// An error without a location.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
            file: None,
            line: 0,
        }
    }

    /// An error at `file:line`.
    pub fn at(message: impl Into<String>, file: &Path, line: usize) -> Self {
        Error {
            message: message.into(),
            file: Some(file.to_path_buf()),
            line,
        }
    }

    /// `unexpected "c"` (nginx prints the offending character verbatim).
    pub(crate) fn unexpected(c: char, file: &Path, line: usize) -> Self {
        Error::at(format!("unexpected \"{c}\""), file, line)
    }

    /// `SYSCALL() "PATH" failed (ERRNO: STRERROR)`, optionally located at the
    /// `include` that caused it.
    pub(crate) fn io(
        syscall: &str,
        path: &Path,
        err: &io::Error,
        at: Option<(&Path, usize)>,
    ) -> Self {
        let message = format!(
            "{syscall}() \"{}\" failed ({})",
            path.display(),
            errno_text(err)
        );
        match at {
            Some((file, line)) => Error::at(message, file, line),
            None => Error::new(message),
        }
    }
}

/// nginx prints errno as `2: No such file or directory`; Rust's `io::Error`
/// displays `No such file or directory (os error 2)`, so reorder it.
fn errno_text(err: &io::Error) -> String {
    let text = err.to_string();
    match err.raw_os_error() {
        Some(code) => {
            let suffix = format!(" (os error {code})");
            format!("{code}: {}", text.strip_suffix(&suffix).unwrap_or(&text))
        }
        None => text,
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(file) = &self.file {
            write!(f, " in {}:{}", file.display(), self.line)?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_with_and_without_location() {
        let e = Error::at("unexpected \"}\"", Path::new("/a/b.conf"), 7);
        assert_eq!(e.to_string(), "unexpected \"}\" in /a/b.conf:7");
        assert_eq!(Error::new("boom").to_string(), "boom");
    }

    #[test]
    fn errno_is_formatted_like_nginx() {
        let err = io::Error::from_raw_os_error(2);
        let e = Error::io("open", Path::new("/x.conf"), &err, None);
        assert_eq!(
            e.to_string(),
            "open() \"/x.conf\" failed (2: No such file or directory)"
        );
        let e = Error::io(
            "open",
            Path::new("/x.conf"),
            &err,
            Some((Path::new("/m.conf"), 3)),
        );
        assert_eq!(
            e.to_string(),
            "open() \"/x.conf\" failed (2: No such file or directory) in /m.conf:3"
        );
    }
}
