//! Number <-> text conversions with C library semantics.
//!
//! lua-cjson formats numbers with `snprintf("%.<precision>g")` and parses them
//! with `strtod()`. Both are reproduced here so that encoded output and the
//! set of accepted inputs are byte-for-byte the same as the C module.

use std::fmt::Write as _;

/// Fixed-size formatting target: `{:e}` output of an f64 with at most 17
/// significant digits never exceeds this, so formatting stays allocation-free.
struct StackBuf {
    bytes: [u8; 48],
    len: usize,
}

impl std::fmt::Write for StackBuf {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.bytes.len() {
            return Err(std::fmt::Error);
        }
        self.bytes[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

const POW10: [f64; 17] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
];

/// Whether `v`, which must lie in `[0, 2^63)`, has no fractional part.
/// (Cheaper than `fract()`, which is a libm call without SSE4.1.)
#[inline]
fn is_integral(v: f64) -> bool {
    debug_assert!((0.0..9.2e18).contains(&v));
    (v as u64) as f64 == v
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&tmp[i..]);
}

/// Appends `x` formatted exactly like C's `printf("%.*g", prec, x)` for a
/// finite `x`. `prec` must be in 1..=16 (the range lua-cjson accepts).
pub fn format_g(out: &mut Vec<u8>, x: f64, prec: u8) {
    debug_assert!(x.is_finite());
    let prec = prec.clamp(1, 17);
    if x == 0.0 {
        out.extend_from_slice(if x.is_sign_negative() { b"-0" } else { b"0" });
        return;
    }
    // Integral values with at most `prec` digits print verbatim under %g;
    // this is by far the most common case (ids, counters, status codes).
    let ax = x.abs();
    if ax < POW10[prec as usize] && is_integral(ax) {
        if x < 0.0 {
            out.push(b'-');
        }
        push_u64(out, ax as u64);
        return;
    }

    let mut digits = [0u8; 24];
    let (nd, exp) = match short_decimal(ax, prec) {
        Some(r) => {
            digits[..r.0].copy_from_slice(&r.2[..r.0]);
            (r.0, r.1)
        }
        None => exact_digits(ax, prec, &mut digits),
    };
    if x < 0.0 {
        out.push(b'-');
    }
    emit_g(out, &digits[..nd], exp, prec);
}

/// Digits of values with few decimals (prices, ratios, coordinates), found
/// without the general formatter: if `ax * 10^k` rounds to an integer m of
/// at most `prec` (<= 15) digits, then ax is within 2^-53 relative of
/// m / 10^k, closer than half a unit of the 15th significant digit, so
/// printf's rounding to `prec` digits yields exactly the digits of m.
fn short_decimal(ax: f64, prec: u8) -> Option<(usize, i32, [u8; 24])> {
    if prec > 15 || !ax.is_normal() {
        return None;
    }
    let limit = POW10[prec as usize];
    for (k, scale) in POW10.iter().enumerate().skip(1).take(8) {
        let y = ax * scale;
        if y >= limit {
            return None;
        }
        if is_integral(y) {
            let mut m = y as u64;
            if m == 0 {
                return None;
            }
            let mut tmp = [0u8; 24];
            let mut i = tmp.len();
            while m > 0 {
                i -= 1;
                tmp[i] = b'0' + (m % 10) as u8;
                m /= 10;
            }
            let total = tmp.len() - i;
            let exp = total as i32 - 1 - k as i32;
            let mut digits = [0u8; 24];
            digits[..total].copy_from_slice(&tmp[i..]);
            let mut nd = total;
            while nd > 1 && digits[nd - 1] == b'0' {
                nd -= 1;
            }
            return Some((nd, exp, digits));
        }
    }
    None
}

/// Significant digits (trailing zeros removed) and decimal exponent of `ax`
/// rounded to `prec` digits, as printf's %e would produce them.
fn exact_digits(ax: f64, prec: u8, digits: &mut [u8; 24]) -> (usize, i32) {
    let mut sb = StackBuf {
        bytes: [0; 48],
        len: 0,
    };
    // Fast path: the shortest round-trip digits. When ax is normal (full
    // 53-bit precision), prec <= 15 and there are at most `prec` of them,
    // they are exactly what printf's correctly rounded conversion yields: ax
    // lies within half a binary ulp of them, which is less than half a unit
    // of the 15th significant digit.
    let mut done = false;
    if prec <= 15 && ax.is_normal() && write!(sb, "{ax:e}").is_ok() {
        let count = sb.bytes[..sb.len]
            .iter()
            .take_while(|&&c| c != b'e')
            .filter(|c| c.is_ascii_digit())
            .count();
        done = count <= prec as usize;
    }
    // Otherwise Rust's `{:.N e}`, correctly rounded like glibc's printf; %g
    // is defined via the %e conversion with precision P-1, so its digits and
    // exponent are exactly those printf would use.
    if !done {
        sb.len = 0;
        if write!(sb, "{:.*e}", (prec - 1) as usize, ax).is_err() {
            // Cannot happen for a finite f64 within the buffer size.
            digits[0] = b'0';
            return (1, 0);
        }
    }
    let s = &sb.bytes[..sb.len];
    let epos = s.iter().position(|&c| c == b'e').unwrap_or(s.len());
    let exp: i32 = std::str::from_utf8(&s[(epos + 1).min(s.len())..])
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(0);
    let mut nd = 0;
    for &c in &s[..epos] {
        if c.is_ascii_digit() && nd < digits.len() {
            digits[nd] = c;
            nd += 1;
        }
    }
    // %g drops trailing zeros of the fraction (no '#' flag).
    while nd > 1 && digits[nd - 1] == b'0' {
        nd -= 1;
    }
    (nd, exp)
}

/// %g layout of significant `digits` (no trailing zeros) with decimal
/// exponent `exp`: plain notation when -4 <= exp < prec, else d.ddde+XX.
fn emit_g(out: &mut Vec<u8>, digits: &[u8], exp: i32, prec: u8) {
    if exp < -4 || exp >= i32::from(prec) {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        out.push(b'e');
        out.push(if exp < 0 { b'-' } else { b'+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push(b'0');
        }
        push_u64(out, u64::from(e));
    } else if exp >= 0 {
        let int_len = exp as usize + 1;
        if digits.len() <= int_len {
            out.extend_from_slice(digits);
            out.extend(std::iter::repeat_n(b'0', int_len - digits.len()));
        } else {
            out.extend_from_slice(&digits[..int_len]);
            out.push(b'.');
            out.extend_from_slice(&digits[int_len..]);
        }
    } else {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-exp - 1) as usize));
        out.extend_from_slice(digits);
    }
}

fn lower(c: u8) -> u8 {
    c | 0x20
}

fn starts_with_ci(s: &[u8], pat: &[u8]) -> bool {
    s.len() >= pat.len() && s.iter().zip(pat).all(|(&a, &b)| lower(a) == b)
}

fn hex_val(c: u8) -> Option<u32> {
    match c {
        b'0'..=b'9' => Some(u32::from(c - b'0')),
        b'a'..=b'f' => Some(u32::from(c - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(c - b'A' + 10)),
        _ => None,
    }
}

/// Parses a number prefix of `s` the way glibc `strtod()` does (no leading
/// whitespace, since the JSON tokenizer never passes any). Returns the value
/// and the number of bytes consumed, or `None` when no conversion is possible.
///
/// Accepted: optional sign, decimal with optional fraction/exponent,
/// hexadecimal `0x` with optional fraction and `p` exponent, `inf`,
/// `infinity`, `nan` and `nan(...)`, all letters case-insensitive.
pub fn strtod(s: &[u8]) -> Option<(f64, usize)> {
    let mut i = 0;
    let neg = match s.first() {
        Some(b'-') => {
            i = 1;
            true
        }
        Some(b'+') => {
            i = 1;
            false
        }
        _ => false,
    };
    let sign = |v: f64| if neg { -v } else { v };
    let rest = &s[i..];

    if starts_with_ci(rest, b"inf") {
        let n = if starts_with_ci(rest, b"infinity") {
            8
        } else {
            3
        };
        return Some((sign(f64::INFINITY), i + n));
    }
    if starts_with_ci(rest, b"nan") {
        let mut n = 3;
        if rest.get(3) == Some(&b'(') {
            let close = rest[4..]
                .iter()
                .position(|&c| !(c.is_ascii_alphanumeric() || c == b'_'));
            if let Some(p) = close {
                if rest[4 + p] == b')' {
                    n = 4 + p + 1;
                }
            }
        }
        return Some((sign(f64::NAN), i + n));
    }

    if rest.len() >= 2 && rest[0] == b'0' && lower(rest[1]) == b'x' {
        if let Some((v, n)) = parse_hex(&rest[2..]) {
            return Some((sign(v), i + 2 + n));
        }
        // "0x" without hex digits: strtod converts just the "0".
        return Some((sign(0.0), i + 1));
    }

    // Decimal: digits [. digits] [e [sign] digits]
    let mut j = 0;
    let mut int_digits = 0;
    let mut int_value: u64 = 0;
    while j < rest.len() && rest[j].is_ascii_digit() {
        if int_digits < 19 {
            int_value = int_value * 10 + u64::from(rest[j] - b'0');
        }
        int_digits += 1;
        j += 1;
    }
    let mut frac_digits = 0;
    let mut has_point = false;
    if j < rest.len() && rest[j] == b'.' {
        has_point = true;
        let mut k = j + 1;
        while k < rest.len() && rest[k].is_ascii_digit() {
            k += 1;
            frac_digits += 1;
        }
        if int_digits > 0 || frac_digits > 0 {
            j = k;
        }
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    let mut has_exp = false;
    if j < rest.len() && lower(rest[j]) == b'e' {
        let mut k = j + 1;
        if k < rest.len() && (rest[k] == b'+' || rest[k] == b'-') {
            k += 1;
        }
        let digits_start = k;
        while k < rest.len() && rest[k].is_ascii_digit() {
            k += 1;
        }
        if k > digits_start {
            has_exp = true;
            j = k;
        }
    }
    // Plain integers up to 15 digits are exact in f64: skip the general
    // parser for the overwhelmingly common case.
    if !has_point && !has_exp && int_digits <= 15 {
        return Some((sign(int_value as f64), i + j));
    }
    // Clinger's fast path: with at most 15 significant digits both the
    // digit string as an integer and the power of ten are exact doubles, so
    // one correctly rounded division gives the correctly rounded value.
    if has_point && !has_exp && int_digits + frac_digits <= 15 {
        let mut m = int_value;
        for &c in &rest[int_digits + 1..int_digits + 1 + frac_digits] {
            m = m * 10 + u64::from(c - b'0');
        }
        return Some((sign(m as f64 / POW10[frac_digits]), i + j));
    }
    let text = std::str::from_utf8(&rest[..j]).ok()?;
    let v: f64 = text.parse().ok()?;
    Some((sign(v), i + j))
}

/// Hexadecimal significand after "0x": hexdigits [. hexdigits] [p [sign] digits].
fn parse_hex(s: &[u8]) -> Option<(f64, usize)> {
    let mut j = 0;
    let mut mant: u64 = 0;
    let mut exp: i64 = 0;
    let mut any = false;
    let mut sticky = false;
    let mut take = |d: u32, in_frac: bool, mant: &mut u64, exp: &mut i64| {
        if *mant < (1u64 << 60) {
            *mant = (*mant << 4) | u64::from(d);
            if in_frac {
                *exp -= 4;
            }
        } else {
            // Keep a sticky bit so rounding of long inputs stays sane.
            if d != 0 {
                sticky = true;
            }
            if !in_frac {
                *exp += 4;
            }
        }
    };
    while j < s.len() {
        match hex_val(s[j]) {
            Some(d) => {
                take(d, false, &mut mant, &mut exp);
                any = true;
                j += 1;
            }
            None => break,
        }
    }
    if j < s.len() && s[j] == b'.' {
        let mut k = j + 1;
        let mut frac_any = false;
        while k < s.len() {
            match hex_val(s[k]) {
                Some(d) => {
                    take(d, true, &mut mant, &mut exp);
                    frac_any = true;
                    k += 1;
                }
                None => break,
            }
        }
        if any || frac_any {
            any = true;
            j = k;
        }
    }
    if !any {
        return None;
    }
    if j < s.len() && lower(s[j]) == b'p' {
        let mut k = j + 1;
        let mut eneg = false;
        if k < s.len() && (s[k] == b'+' || s[k] == b'-') {
            eneg = s[k] == b'-';
            k += 1;
        }
        let ds = k;
        let mut e: i64 = 0;
        while k < s.len() && s[k].is_ascii_digit() {
            e = (e * 10 + i64::from(s[k] - b'0')).min(100_000);
            k += 1;
        }
        if k > ds {
            exp += if eneg { -e } else { e };
            j = k;
        }
    }
    if sticky {
        mant |= 1;
    }
    let v = (mant as f64) * 2f64.powi(exp.clamp(-2200, 2200) as i32);
    Some((v, j))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(x: f64, p: u8) -> String {
        let mut v = Vec::new();
        format_g(&mut v, x, p);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn formats_like_printf_g14() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (-3.0, "-3"),
            (100.0, "100"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.33333333333333"),
            (2.0 / 3.0, "0.66666666666667"),
            (1e300, "1e+300"),
            (1e15, "1e+15"),
            (1e14, "1e+14"),
            (99999999999999.0, "99999999999999"),
            (9007199254740992.0, "9.007199254741e+15"),
            (123456.789, "123456.789"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (-1.25, "-1.25"),
            (1.23456789012345, "1.2345678901235"),
            (1e100, "1e+100"),
            (5e-324, "4.9406564584125e-324"),
            (f64::MAX, "1.7976931348623e+308"),
            (123456789012345.0, "1.2345678901234e+14"),
            (0.5, "0.5"),
        ];
        for &(x, want) in cases {
            assert_eq!(g(x, 14), want, "{x:e}");
        }
    }

    #[test]
    fn honours_precision() {
        assert_eq!(g(1.0 / 3.0, 1), "0.3");
        assert_eq!(g(1.0 / 3.0, 3), "0.333");
        assert_eq!(g(1.0 / 3.0, 16), "0.3333333333333333");
        assert_eq!(g(123.0, 2), "1.2e+02");
        assert_eq!(g(125.0, 2), "1.2e+02");
        assert_eq!(g(0.1, 16), "0.1");
        assert_eq!(g(9007199254740993.0, 16), "9007199254740992");
    }

    #[test]
    fn strtod_decimal() {
        assert_eq!(strtod(b"123"), Some((123.0, 3)));
        assert_eq!(strtod(b"-5e3,"), Some((-5000.0, 4)));
        assert_eq!(strtod(b"0.4eg10"), Some((0.4, 3)));
        assert_eq!(strtod(b"1."), Some((1.0, 2)));
        assert_eq!(strtod(b"0123"), Some((123.0, 4)));
        assert_eq!(strtod(b"1e999"), Some((f64::INFINITY, 5)));
        assert_eq!(
            strtod(b"12345678901234567890"),
            Some((1.2345678901234567e19, 20))
        );
        let (z, n) = strtod(b"-0").unwrap();
        assert!(z == 0.0 && z.is_sign_negative() && n == 2);
        assert_eq!(strtod(b"-"), None);
        assert_eq!(strtod(b"-+12"), None);
        assert_eq!(strtod(b"."), None);
        assert_eq!(strtod(b".5"), Some((0.5, 2)));
    }

    #[test]
    fn strtod_fast_path_matches_full_parser() {
        let mut cases: Vec<String> = vec![
            "0.1",
            "0.3",
            "1.25",
            "98.6",
            "-0.001",
            "-0.0",
            "0.0",
            "5.",
            "123456789.012345",
            "0.000000000000001",
            "999999999999999.",
            "9007199254.740993",
            "1.7976931348",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let digits = (x % 15 + 1) as usize;
            let point = (x >> 8) as usize % (digits + 1);
            let mut t = format!("{}", (x >> 16) % 10u64.pow(digits as u32));
            while t.len() < digits {
                t.insert(0, '0');
            }
            t.insert(point, '.');
            cases.push(t);
        }
        for c in &cases {
            let want: f64 = c.parse().unwrap();
            let (got, n) = strtod(c.as_bytes()).unwrap();
            assert_eq!(n, c.len(), "{c}");
            assert_eq!(got.to_bits(), want.to_bits(), "{c}");
        }
    }

    #[test]
    fn strtod_special() {
        assert_eq!(strtod(b"0x6.ffp1"), Some((13.9921875, 8)));
        assert_eq!(strtod(b"0x10"), Some((16.0, 4)));
        assert_eq!(strtod(b"0xg"), Some((0.0, 1)));
        assert_eq!(strtod(b"Infrared"), Some((f64::INFINITY, 3)));
        assert_eq!(strtod(b"-Infinity"), Some((f64::NEG_INFINITY, 9)));
        assert_eq!(strtod(b"+inf"), Some((f64::INFINITY, 4)));
        let (n, len) = strtod(b"NaN]").unwrap();
        assert!(n.is_nan() && len == 3);
        let (_, len) = strtod(b"nan(123)x").unwrap();
        assert_eq!(len, 8);
    }
}
