//! URI escaping, unescaping and `$uri` normalization with nginx / lua-nginx-module semantics.

/// The escape sets of `ngx.escape_uri(str, type)`; the discriminant is the Lua `type` number.
///
/// The sets are lua-nginx-module's own copies of nginx's tables. They differ from current
/// nginx core in two places: `Args` leaves `&` and `;` alone, and `UriComponent` leaves
/// `!`, `*`, `'`, `(` and `)` alone (like JavaScript's `encodeURIComponent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum EscapeKind {
    /// Space, `#`, `%`, `?`, controls, DEL and bytes >= 0x80.
    Uri = 0,
    /// As `Uri` plus `+`.
    Args = 1,
    /// Everything except ALPHA, DIGIT and `-._~!*'()`. The default of `ngx.escape_uri`.
    UriComponent = 2,
    /// Space, `"`, `#`, `%`, `'`, controls, DEL and bytes >= 0x80.
    Html = 3,
    /// Space, `"`, `'`, controls, DEL and bytes >= 0x80.
    Refresh = 4,
    /// Space, `%` and controls only (DEL and 8-bit bytes pass through).
    Memcached = 5,
    /// Same set as `Memcached`.
    MailAuth = 6,
}

impl EscapeKind {
    /// Maps the Lua-facing type number (0..=6) to a kind.
    pub fn from_index(index: i64) -> Option<EscapeKind> {
        Some(match index {
            0 => EscapeKind::Uri,
            1 => EscapeKind::Args,
            2 => EscapeKind::UriComponent,
            3 => EscapeKind::Html,
            4 => EscapeKind::Refresh,
            5 => EscapeKind::Memcached,
            6 => EscapeKind::MailAuth,
            _ => return None,
        })
    }

    fn set(self) -> &'static ByteSet {
        match self {
            EscapeKind::Uri => &URI_SET,
            EscapeKind::Args => &ARGS_SET,
            EscapeKind::UriComponent => &URI_COMPONENT_SET,
            EscapeKind::Html => &HTML_SET,
            EscapeKind::Refresh => &REFRESH_SET,
            EscapeKind::Memcached | EscapeKind::MailAuth => &MEMCACHED_SET,
        }
    }
}

/// A 256-bit membership bitmap, one bit per byte value.
struct ByteSet([u32; 8]);

impl ByteSet {
    #[inline]
    fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 5)] & (1u32 << (b & 0x1f)) != 0
    }
}

const CONTROLS: u8 = 1;
const DEL: u8 = 2;
const HIGH: u8 = 4;

const fn byte_set(listed: &[u8], classes: u8) -> ByteSet {
    let mut words = [0u32; 8];
    if classes & CONTROLS != 0 {
        words[0] = u32::MAX;
    }
    if classes & DEL != 0 {
        words[3] |= 1 << 31;
    }
    if classes & HIGH != 0 {
        let mut w = 4;
        while w < 8 {
            words[w] = u32::MAX;
            w += 1;
        }
    }
    let mut i = 0;
    while i < listed.len() {
        let b = listed[i];
        words[(b >> 5) as usize] |= 1 << (b & 0x1f);
        i += 1;
    }
    ByteSet(words)
}

const ALL_CLASSES: u8 = CONTROLS | DEL | HIGH;
static URI_SET: ByteSet = byte_set(b" #%?", ALL_CLASSES);
static ARGS_SET: ByteSet = byte_set(b" #%+?", ALL_CLASSES);
static URI_COMPONENT_SET: ByteSet = byte_set(b" \"#$%&+,/:;<=>?@[\\]^`{|}", ALL_CLASSES);
static HTML_SET: ByteSet = byte_set(b" \"#%'", ALL_CLASSES);
static REFRESH_SET: ByteSet = byte_set(b" \"'", ALL_CLASSES);
static MEMCACHED_SET: ByteSet = byte_set(b" %", CONTROLS);

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Length of `escape_uri(input, kind)` without building it; equal to `input.len()` when
/// nothing needs escaping (which lets callers hand back the original string).
pub fn escaped_len(input: &[u8], kind: EscapeKind) -> usize {
    let set = kind.set();
    input.len() + 2 * input.iter().filter(|&&b| set.contains(b)).count()
}

/// Percent-encodes `input` with uppercase hex digits, like `ngx_escape_uri`.
pub fn escape_uri(input: &[u8], kind: EscapeKind) -> Vec<u8> {
    let mut out = Vec::with_capacity(escaped_len(input, kind));
    escape_uri_into(&mut out, input, kind);
    out
}

/// Appends the escaped form of `input` to `out`.
pub fn escape_uri_into(out: &mut Vec<u8>, input: &[u8], kind: EscapeKind) {
    let set = kind.set();
    for &b in input {
        if set.contains(b) {
            out.extend_from_slice(&[
                b'%',
                HEX_UPPER[usize::from(b >> 4)],
                HEX_UPPER[usize::from(b & 0xf)],
            ]);
        } else {
            out.push(b);
        }
    }
}

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// `ngx.unescape_uri`: `+` becomes a space and `%XX` is decoded; a `%` that is not
/// followed by two hex digits is copied literally and scanning resumes right after it
/// (lua-nginx-module's own decoder, which is lenient where nginx core drops bytes).
pub fn unescape_uri(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        match input[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let pair = input
                    .get(i + 1)
                    .and_then(|&h| hex_val(h))
                    .zip(input.get(i + 2).and_then(|&l| hex_val(l)));
                if let Some((hi, lo)) = pair {
                    out.push(hi << 4 | lo);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// nginx core's `ngx_unescape_uri(.., NGX_UNESCAPE_URI)`: `%XX` is decoded and `+` is
/// left alone. Decoding stops after a literal `?` or a decoded `%3F` (the `?` itself is
/// kept), because the rest would be the query string. Malformed escapes lose bytes the
/// way nginx's state machine does: `%` followed by a non-hex byte drops the `%`; `%`, a hex
/// digit and a non-hex byte drops all three; an escape cut off by the end is dropped.
pub fn unescape_uri_path(input: &[u8]) -> Vec<u8> {
    enum State {
        Usual,
        Quoted,
        QuotedSecond(u8),
    }
    let mut out = Vec::with_capacity(input.len());
    let mut state = State::Usual;
    for &ch in input {
        match state {
            State::Usual => match ch {
                b'?' => {
                    out.push(ch);
                    break;
                }
                b'%' => state = State::Quoted,
                _ => out.push(ch),
            },
            State::Quoted => match hex_val(ch) {
                Some(v) => state = State::QuotedSecond(v),
                None => {
                    state = State::Usual;
                    out.push(ch);
                }
            },
            State::QuotedSecond(hi) => {
                state = State::Usual;
                if let Some(lo) = hex_val(ch) {
                    let decoded = hi << 4 | lo;
                    out.push(decoded);
                    if decoded == b'?' {
                        break;
                    }
                }
            }
        }
    }
    out
}

/// nginx's `$uri` normalization (`ngx_http_parse_complex_uri` with `merge_slashes on`):
/// percent-decoding, merging of repeated slashes and resolution of `.` and `..`
/// segments. Returns `None` where nginx answers 400: a `..` climbing above the root, a
/// malformed or truncated `%` escape, or `%00`.
///
/// The input is the raw path; a literal `?` (start of the query) or `#` (fragment) ends
/// it. A decoded `%2F` acts as a slash and `%2E` as a dot, while decoded `%25`, `%23` and
/// `%3F` are kept as plain data.
pub fn normalize_uri_path(path: &[u8]) -> Option<Vec<u8>> {
    normalize_uri_path_with(path, true)
}

/// [`normalize_uri_path`] with nginx's `merge_slashes` directive made explicit.
pub fn normalize_uri_path_with(path: &[u8], merge_slashes: bool) -> Option<Vec<u8>> {
    #[derive(Clone, Copy)]
    enum State {
        Usual,
        Slash,
        Dot,
        DotDot,
        Quoted(Resume),
        QuotedSecond(Resume, u8),
    }
    // The state a decoded byte is fed back into.
    #[derive(Clone, Copy)]
    enum Resume {
        Usual,
        Slash,
        Dot,
        DotDot,
    }
    impl Resume {
        fn state(self) -> State {
            match self {
                Resume::Usual => State::Usual,
                Resume::Slash => State::Slash,
                Resume::Dot => State::Dot,
                Resume::DotDot => State::DotDot,
            }
        }
    }

    // Drops the last segment together with the "/.." just written; nginx steps back over
    // "/.." and then to the previous slash, failing if it runs off the start.
    fn climb(out: &mut Vec<u8>) -> Option<()> {
        let mut pos = out.len().checked_sub(4)?;
        loop {
            if out[pos] == b'/' {
                out.truncate(pos + 1);
                return Some(());
            }
            pos = pos.checked_sub(1)?;
        }
    }

    let mut out: Vec<u8> = Vec::with_capacity(path.len());
    let mut state = State::Usual;
    let mut input = path.iter().copied();
    // A decoded escape is re-examined in the state that preceded the `%`.
    let mut reread: Option<u8> = None;

    while let Some(ch) = reread.take().or_else(|| input.next()) {
        match state {
            State::Usual => match ch {
                b'/' => {
                    state = State::Slash;
                    out.push(ch);
                }
                b'%' => state = State::Quoted(Resume::Usual),
                b'?' | b'#' => return Some(out),
                _ => out.push(ch),
            },
            State::Slash => match ch {
                b'/' => {
                    if !merge_slashes {
                        out.push(ch);
                    }
                }
                b'.' => {
                    state = State::Dot;
                    out.push(ch);
                }
                b'%' => state = State::Quoted(Resume::Slash),
                b'?' | b'#' => return Some(out),
                _ => {
                    state = State::Usual;
                    out.push(ch);
                }
            },
            State::Dot => match ch {
                b'/' => {
                    state = State::Slash;
                    out.pop();
                }
                b'.' => {
                    state = State::DotDot;
                    out.push(ch);
                }
                b'%' => state = State::Quoted(Resume::Dot),
                b'?' | b'#' => {
                    out.pop();
                    return Some(out);
                }
                _ => {
                    state = State::Usual;
                    out.push(ch);
                }
            },
            State::DotDot => match ch {
                b'/' => {
                    climb(&mut out)?;
                    state = State::Slash;
                }
                b'?' | b'#' => {
                    climb(&mut out)?;
                    return Some(out);
                }
                b'%' => state = State::Quoted(Resume::DotDot),
                _ => {
                    state = State::Usual;
                    out.push(ch);
                }
            },
            State::Quoted(resume) => state = State::QuotedSecond(resume, hex_val(ch)?),
            State::QuotedSecond(resume, hi) => {
                let decoded = hi << 4 | hex_val(ch)?;
                match decoded {
                    0 => return None,
                    b'%' | b'#' | b'?' => {
                        state = State::Usual;
                        out.push(decoded);
                    }
                    _ => {
                        state = resume.state();
                        reread = Some(decoded);
                    }
                }
            }
        }
    }

    match state {
        State::Quoted(_) | State::QuotedSecond(..) => None,
        State::Dot => {
            out.pop();
            Some(out)
        }
        State::DotDot => {
            climb(&mut out)?;
            Some(out)
        }
        State::Usual | State::Slash => Some(out),
    }
}

/// `ngx.quote_sql_str`: wraps in single quotes and backslash-escapes the bytes MySQL
/// treats specially (`\0 \b \n \r \t \Z \\ ' "`). Bytes >= 0x80 are copied untouched.
pub fn quote_sql_str(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + 2);
    out.push(b'\'');
    for &b in input {
        let escaped = match b {
            0 => b'0',
            0x08 => b'b',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x1a => b'Z',
            b'\\' | b'\'' | b'"' => b,
            _ => {
                out.push(b);
                continue;
            }
        };
        out.extend_from_slice(&[b'\\', escaped]);
    }
    out.push(b'\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = " /?&=%中".as_bytes();

    fn esc(input: &[u8], kind: EscapeKind) -> String {
        String::from_utf8(escape_uri(input, kind)).unwrap()
    }

    #[test]
    fn escape_sample_in_every_kind() {
        assert_eq!(esc(SAMPLE, EscapeKind::Uri), "%20/%3F&=%25%E4%B8%AD");
        assert_eq!(esc(SAMPLE, EscapeKind::Args), "%20/%3F&=%25%E4%B8%AD");
        assert_eq!(
            esc(SAMPLE, EscapeKind::UriComponent),
            "%20%2F%3F%26%3D%25%E4%B8%AD"
        );
        assert_eq!(esc(SAMPLE, EscapeKind::Html), "%20/?&=%25%E4%B8%AD");
        assert_eq!(esc(SAMPLE, EscapeKind::Refresh), "%20/?&=%%E4%B8%AD");
        assert_eq!(esc(SAMPLE, EscapeKind::Memcached), "%20/?&=%25中");
        assert_eq!(esc(SAMPLE, EscapeKind::MailAuth), "%20/?&=%25中");
    }

    #[test]
    fn escape_component_leaves_unreserved_and_sub_delims_subset() {
        assert_eq!(
            esc(b"AZaz09-._~!*'()", EscapeKind::UriComponent),
            "AZaz09-._~!*'()"
        );
        assert_eq!(
            esc(b"\"a/b={}:<>;&[]\\^", EscapeKind::UriComponent),
            "%22a%2Fb%3D%7B%7D%3A%3C%3E%3B%26%5B%5D%5C%5E"
        );
        assert_eq!(esc(b"a+b", EscapeKind::UriComponent), "a%2Bb");
        assert_eq!(esc(b"$,@`|", EscapeKind::UriComponent), "%24%2C%40%60%7C");
        assert_eq!(
            esc(b"\x00\x1f\x7f\xff", EscapeKind::UriComponent),
            "%00%1F%7F%FF"
        );
    }

    #[test]
    fn escape_other_kinds_edges() {
        assert_eq!(esc(b"a+b#c", EscapeKind::Uri), "a+b%23c");
        assert_eq!(esc(b"a+b#c;d", EscapeKind::Args), "a%2Bb%23c;d");
        assert_eq!(esc(b"\"'<>", EscapeKind::Html), "%22%27<>");
        assert_eq!(esc(b"\"'#", EscapeKind::Refresh), "%22%27#");
        assert_eq!(
            escape_uri(b"\x7f\x80\n", EscapeKind::Memcached),
            b"\x7f\x80%0A"
        );
    }

    #[test]
    fn escaped_len_matches() {
        assert_eq!(escaped_len(b"abc", EscapeKind::UriComponent), 3);
        assert_eq!(escaped_len(SAMPLE, EscapeKind::UriComponent), 27);
        assert_eq!(escaped_len(b"", EscapeKind::Uri), 0);
    }

    #[test]
    fn kind_from_index() {
        assert_eq!(EscapeKind::from_index(0), Some(EscapeKind::Uri));
        assert_eq!(EscapeKind::from_index(2), Some(EscapeKind::UriComponent));
        assert_eq!(EscapeKind::from_index(6), Some(EscapeKind::MailAuth));
        assert_eq!(EscapeKind::from_index(7), None);
        assert_eq!(EscapeKind::from_index(-1), None);
    }

    #[test]
    fn unescape_component() {
        assert_eq!(unescape_uri(b"a%20%e4%bd%a0"), "a 你".as_bytes());
        assert_eq!(unescape_uri(b"a+b%2Bc"), b"a b+c");
        assert_eq!(unescape_uri(b"%zz"), b"%zz");
        assert_eq!(unescape_uri(b"%4"), b"%4");
        assert_eq!(unescape_uri(b"%"), b"%");
        assert_eq!(unescape_uri(b"%%41"), b"%A");
        assert_eq!(unescape_uri(b"%4g%41"), b"%4gA");
        assert_eq!(unescape_uri(b"%00x"), b"\x00x");
        assert_eq!(unescape_uri(b"a?b%3Fc"), b"a?b?c");
        assert_eq!(unescape_uri(b""), b"");
    }

    #[test]
    fn unescape_path_variant() {
        assert_eq!(unescape_uri_path(b"/a+b%20c"), b"/a+b c");
        assert_eq!(unescape_uri_path(b"/a%2Fb"), b"/a/b");
        assert_eq!(unescape_uri_path(b"/a?b=c"), b"/a?");
        assert_eq!(unescape_uri_path(b"/a%3fb"), b"/a?");
        assert_eq!(unescape_uri_path(b"/a%zz"), b"/azz");
        assert_eq!(unescape_uri_path(b"/a%4zb"), b"/ab");
        assert_eq!(unescape_uri_path(b"/a%4"), b"/a");
        assert_eq!(unescape_uri_path(b"/a%"), b"/a");
    }

    fn norm(p: &str) -> Option<String> {
        normalize_uri_path(p.as_bytes()).map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn normalize_dots_and_slashes() {
        assert_eq!(norm("/").as_deref(), Some("/"));
        assert_eq!(norm("/a/b").as_deref(), Some("/a/b"));
        assert_eq!(norm("//a///b//").as_deref(), Some("/a/b/"));
        assert_eq!(norm("/a/./b").as_deref(), Some("/a/b"));
        assert_eq!(norm("/a/.").as_deref(), Some("/a/"));
        assert_eq!(norm("/a/b/../c").as_deref(), Some("/a/c"));
        assert_eq!(norm("/a/b/..").as_deref(), Some("/a/"));
        assert_eq!(norm("/a/..").as_deref(), Some("/"));
        assert_eq!(norm("/a/b/../../c").as_deref(), Some("/c"));
        assert_eq!(
            norm("/a/.hidden/..x/...").as_deref(),
            Some("/a/.hidden/..x/...")
        );
        assert_eq!(norm("/a.b/c.").as_deref(), Some("/a.b/c."));
    }

    #[test]
    fn normalize_above_root_is_rejected() {
        assert_eq!(norm("/.."), None);
        assert_eq!(norm("/../a"), None);
        assert_eq!(norm("/a/../../b"), None);
        assert_eq!(norm("/%2E%2E/a"), None);
        assert_eq!(norm("/..?x"), None);
    }

    #[test]
    fn normalize_percent_decoding() {
        assert_eq!(norm("/a%2Fb").as_deref(), Some("/a/b"));
        assert_eq!(norm("/a%2f%2fb").as_deref(), Some("/a/b"));
        assert_eq!(norm("/a/%2E/b").as_deref(), Some("/a/b"));
        assert_eq!(norm("/a/b/%2e%2E/c").as_deref(), Some("/a/c"));
        assert_eq!(norm("/a%20b+c").as_deref(), Some("/a b+c"));
        assert_eq!(norm("/a%3Fb").as_deref(), Some("/a?b"));
        assert_eq!(norm("/a%23b%25c").as_deref(), Some("/a#b%c"));
        assert_eq!(norm("/caf%C3%A9").as_deref(), Some("/café"));
        assert_eq!(norm("/a%zz"), None);
        assert_eq!(norm("/a%2"), None);
        assert_eq!(norm("/a%"), None);
        assert_eq!(norm("/a%00b"), None);
    }

    #[test]
    fn normalize_stops_at_query_and_fragment() {
        assert_eq!(norm("/a/b?c/../..").as_deref(), Some("/a/b"));
        assert_eq!(norm("/a/.?x").as_deref(), Some("/a/"));
        assert_eq!(norm("/a/b/..?x").as_deref(), Some("/a/"));
        assert_eq!(norm("/a#frag/..").as_deref(), Some("/a"));
        assert_eq!(norm("//?x").as_deref(), Some("/"));
    }

    #[test]
    fn normalize_without_merge() {
        let r = normalize_uri_path_with(b"//a//b/./c", false).unwrap();
        assert_eq!(r, b"//a//b/c");
    }

    #[test]
    fn sql_quoting() {
        assert_eq!(quote_sql_str(b""), b"''");
        assert_eq!(quote_sql_str(b"abc"), b"'abc'");
        assert_eq!(
            quote_sql_str(b"\x00\x08\n\r\t\x1a\\'\"x"),
            b"'\\0\\b\\n\\r\\t\\Z\\\\\\'\\\"x'"
        );
        assert_eq!(quote_sql_str("中'".as_bytes()), "'中\\''".as_bytes());
    }
}
