//! Query-string parsing as lua-nginx-module does it.
//!
//! Two truncation rules exist in OpenResty and both are provided:
//! [`parse_args`] is the C implementation behind `ngx.decode_args` and
//! `ngx.req.get_post_args`; [`parse_uri_args`] is the FFI one behind
//! `ngx.req.get_uri_args` (lua-resty-core). They only differ once `max` is reached.

use crate::escape::unescape_uri;

/// The limit OpenResty applies when the caller gives none.
pub const DEFAULT_MAX_ARGS: usize = 100;

/// A decoded query argument value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgValue {
    /// A key without `=` (`?flag`); always `Bool(true)` when produced by the parsers.
    Bool(bool),
    /// The unescaped value after `=`; possibly empty.
    Str(Vec<u8>),
}

/// One parsed `key[=value]` item.
pub type Arg = (Vec<u8>, ArgValue);

/// Splits one `&`-delimited item; `None` for items OpenResty ignores (empty key).
fn parse_item(item: &[u8]) -> Option<Arg> {
    let (raw_key, value) = match item.iter().position(|&b| b == b'=') {
        Some(eq) => (&item[..eq], Some(&item[eq + 1..])),
        None => (item, None),
    };
    let key = unescape_uri(raw_key);
    if key.is_empty() {
        return None;
    }
    let value = match value {
        Some(v) => ArgValue::Str(unescape_uri(v)),
        None => ArgValue::Bool(true),
    };
    Some((key, value))
}

/// `ngx.decode_args` / `ngx.req.get_post_args`: keys and values are unescaped with
/// [`unescape_uri`] (so `+` is a space), items with an empty key (`=x`, `&&`) are
/// skipped, a key without `=` maps to `Bool(true)`.
///
/// `max` (0 = unlimited) counts `&` separators, skipped items included: when the
/// `max`-th `&` is reached the items before it are returned with `truncated = true`,
/// even if nothing follows that `&`.
pub fn parse_args(query: &[u8], max: usize) -> (Vec<Arg>, bool) {
    let mut out = Vec::new();
    let mut items = query.split(|&b| b == b'&').peekable();
    let mut separators = 0usize;
    while let Some(item) = items.next() {
        out.extend(parse_item(item));
        if items.peek().is_some() {
            separators += 1;
            if max > 0 && separators == max {
                return (out, true);
            }
        }
    }
    (out, false)
}

/// `ngx.req.get_uri_args`: same item rules as [`parse_args`], but the limit is applied
/// the lua-resty-core way: `truncated` is decided up front from the number of `&`
/// (more than `max - 1` of them), and then at most `max` non-skipped items are kept.
pub fn parse_uri_args(query: &[u8], max: usize) -> (Vec<Arg>, bool) {
    if query.is_empty() {
        return (Vec::new(), false);
    }
    let slots = query.iter().filter(|&&b| b == b'&').count() + 1;
    let (limit, truncated) = if max > 0 && slots > max {
        (max, true)
    } else {
        (slots, false)
    };
    let mut out = Vec::new();
    let mut items = query.split(|&b| b == b'&').peekable();
    while let Some(item) = items.next() {
        out.extend(parse_item(item));
        if items.peek().is_some() && out.len() == limit {
            break;
        }
    }
    (out, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> ArgValue {
        ArgValue::Str(v.as_bytes().to_vec())
    }

    fn k(v: &str) -> Vec<u8> {
        v.as_bytes().to_vec()
    }

    const T: ArgValue = ArgValue::Bool(true);

    #[test]
    fn brief_example() {
        let (args, truncated) = parse_args(b"a&b=1&a=2&=x&c=", DEFAULT_MAX_ARGS);
        assert!(!truncated);
        assert_eq!(
            args,
            vec![
                (k("a"), T),
                (k("b"), s("1")),
                (k("a"), s("2")),
                (k("c"), s(""))
            ]
        );
        assert_eq!(
            parse_uri_args(b"a&b=1&a=2&=x&c=", DEFAULT_MAX_ARGS),
            (args, false)
        );
    }

    #[test]
    fn empty_items_and_unescaping() {
        assert_eq!(parse_args(b"", 100), (vec![], false));
        assert_eq!(parse_args(b"&&", 100), (vec![], false));
        assert_eq!(parse_args(b"=", 100), (vec![], false));
        assert_eq!(parse_args(b"=a&b", 100), (vec![(k("b"), T)], false));
        assert_eq!(parse_args(b"%20=x", 100), (vec![(k(" "), s("x"))], false));
        assert_eq!(parse_args(b"%=x", 100), (vec![(k("%"), s("x"))], false));
        assert_eq!(
            parse_args(b"a+b=c+d%26e&f=g=h", 100),
            (vec![(k("a b"), s("c d&e")), (k("f"), s("g=h"))], false)
        );
        assert_eq!(parse_args(b"a=", 100), (vec![(k("a"), s(""))], false));
        assert_eq!(parse_args(b"a&", 100), (vec![(k("a"), T)], false));
    }

    #[test]
    fn decode_args_truncation_counts_separators() {
        assert_eq!(parse_args(b"a=1&b=2", 1), (vec![(k("a"), s("1"))], true));
        assert_eq!(
            parse_args(b"a=1&b=2", 2),
            (vec![(k("a"), s("1")), (k("b"), s("2"))], false)
        );
        assert_eq!(
            parse_args(b"a=1&b=2&", 2),
            (vec![(k("a"), s("1")), (k("b"), s("2"))], true)
        );
        assert_eq!(parse_args(b"&&&a=1", 2), (vec![], true));
        assert_eq!(parse_args(b"a&b&c&d", 0).0.len(), 4);
    }

    #[test]
    fn uri_args_truncation_counts_items() {
        assert_eq!(
            parse_uri_args(b"a=1&b=2", 1),
            (vec![(k("a"), s("1"))], true)
        );
        assert_eq!(
            parse_uri_args(b"a=1&b=2", 2),
            (vec![(k("a"), s("1")), (k("b"), s("2"))], false)
        );
        assert_eq!(
            parse_uri_args(b"a=1&b=2&", 2),
            (vec![(k("a"), s("1")), (k("b"), s("2"))], true)
        );
        assert_eq!(parse_uri_args(b"&&&a=1", 2), (vec![(k("a"), s("1"))], true));
        assert_eq!(
            parse_uri_args(b"=x&a&b&c", 2),
            (vec![(k("a"), T), (k("b"), T)], true)
        );
    }

    #[test]
    fn many_args_default_limit() {
        let q: Vec<u8> = (0..150)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes();
        let (args, truncated) = parse_args(&q, DEFAULT_MAX_ARGS);
        assert!(truncated);
        assert_eq!(args.len(), 100);
        assert_eq!(args[99].0, b"k99");
        let (args, truncated) = parse_uri_args(&q, DEFAULT_MAX_ARGS);
        assert!(truncated);
        assert_eq!(args.len(), 100);
        let (args, truncated) = parse_args(&q, 0);
        assert!(!truncated);
        assert_eq!(args.len(), 150);
    }
}
