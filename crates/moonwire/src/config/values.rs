//! nginx value syntaxes: sizes (`1m`, `16k`) and times (`75s`, `1h 30m`, `500ms`).

/// `512`, `16k`, `1m`, `1g` (case-insensitive) in bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mult) = match s.as_bytes().last()? {
        b'k' | b'K' => (&s[..s.len() - 1], 1024),
        b'm' | b'M' => (&s[..s.len() - 1], 1024 * 1024),
        b'g' | b'G' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// nginx time: a sequence of `<n><unit>` with units ms, s, m, h, d, w, M, y
/// (no unit = seconds) in milliseconds.
pub fn parse_time_ms(s: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let b = s.as_bytes();
    let mut i = 0;
    let mut any = false;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if start == i {
            return None;
        }
        let n: u64 = s[start..i].parse().ok()?;
        let unit_ms: u64 = if s[i..].starts_with("ms") {
            i += 2;
            1
        } else {
            let u = b.get(i).copied();
            if u.is_some() && u != Some(b' ') {
                i += 1;
            }
            match u {
                None | Some(b' ') | Some(b's') => 1000,
                Some(b'm') => 60_000,
                Some(b'h') => 3_600_000,
                Some(b'd') => 86_400_000,
                Some(b'w') => 7 * 86_400_000,
                Some(b'M') => 30 * 86_400_000,
                Some(b'y') => 365 * 86_400_000,
                _ => return None,
            }
        };
        total = total.checked_add(n.checked_mul(unit_ms)?)?;
        any = true;
    }
    any.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("16k"), Some(16384));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("x"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn times() {
        assert_eq!(parse_time_ms("75"), Some(75_000));
        assert_eq!(parse_time_ms("75s"), Some(75_000));
        assert_eq!(parse_time_ms("500ms"), Some(500));
        assert_eq!(parse_time_ms("1h 30m"), Some(5_400_000));
        assert_eq!(parse_time_ms("0"), Some(0));
        assert_eq!(parse_time_ms("1x"), None);
        assert_eq!(parse_time_ms(""), None);
    }
}
