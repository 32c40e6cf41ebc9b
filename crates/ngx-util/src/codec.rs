//! Base64 and digests with nginx's exact acceptance rules.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use sha1::Sha1;

/// `ngx.encode_base64`: standard alphabet, `=` padding unless `no_padding`.
pub fn encode_base64(data: &[u8], no_padding: bool) -> String {
    if no_padding {
        STANDARD_NO_PAD.encode(data)
    } else {
        STANDARD.encode(data)
    }
}

/// `ngx.base64.encode_base64url`: URL-safe alphabet (`-`, `_`), never padded.
pub fn encode_base64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

const INVALID: u8 = 0xff;

const fn decode_table(alphabet: &[u8; 64]) -> [u8; 256] {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        table[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    table
}

static STD_TABLE: [u8; 256] =
    decode_table(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
static URL_TABLE: [u8; 256] =
    decode_table(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");

/// Decodes a run of sextets (already validated); trailing bits of a partial group are
/// ignored, as nginx does.
fn decode_sextets(sextets: impl ExactSizeIterator<Item = u8>) -> Option<Vec<u8>> {
    let n = sextets.len();
    if n % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(n / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for s in sextets {
        acc = acc << 6 | u32::from(s);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// nginx's rule: input ends at the first `=` (anything after it is ignored, so padding
/// is optional), every byte before it must be in the alphabet, and a length that leaves
/// a single dangling character is rejected.
fn decode_strict(data: &[u8], table: &[u8; 256]) -> Option<Vec<u8>> {
    let end = data.iter().position(|&b| b == b'=').unwrap_or(data.len());
    let body = &data[..end];
    if body.iter().any(|&b| table[usize::from(b)] == INVALID) {
        return None;
    }
    decode_sextets(body.iter().map(|&b| table[usize::from(b)]))
}

/// `ngx.decode_base64` (`ngx_decode_base64`); `None` on invalid input.
pub fn decode_base64(data: &[u8]) -> Option<Vec<u8>> {
    decode_strict(data, &STD_TABLE)
}

/// `ngx.base64.decode_base64url` (`ngx_decode_base64url`); `None` on invalid input.
pub fn decode_base64url(data: &[u8]) -> Option<Vec<u8>> {
    decode_strict(data, &URL_TABLE)
}

/// `ngx.decode_base64mime`: like [`decode_base64`] but bytes outside the standard alphabet
/// (line breaks, spaces, `-`, `_`, ...) are skipped instead of rejected. Input still ends at
/// the first `=`, and a dangling single character still yields `None`.
pub fn decode_base64mime(data: &[u8]) -> Option<Vec<u8>> {
    let end = data.iter().position(|&b| b == b'=').unwrap_or(data.len());
    let sextets: Vec<u8> = data[..end]
        .iter()
        .map(|&b| STD_TABLE[usize::from(b)])
        .filter(|&v| v != INVALID)
        .collect();
    decode_sextets(sextets.into_iter())
}

/// `ngx.md5_bin`: the raw 16-byte digest.
pub fn md5_bin(data: &[u8]) -> [u8; 16] {
    Md5::digest(data).into()
}

/// `ngx.md5`: lowercase hex of the digest.
pub fn md5_hex(data: &[u8]) -> String {
    hex_lower(&md5_bin(data))
}

/// `ngx.sha1_bin`: the raw 20-byte digest.
pub fn sha1_bin(data: &[u8]) -> [u8; 20] {
    Sha1::digest(data).into()
}

/// `ngx.hmac_sha1(secret, data)`: the raw 20-byte HMAC-SHA1.
pub fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `ngx.crc32_short`: CRC-32/IEEE. nginx's nibble-table variant (meant for short inputs)
/// computes the same polynomial as the byte-table one, so the values are identical.
pub fn crc32_short(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// `ngx.crc32_long`: CRC-32/IEEE.
pub fn crc32_long(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// Lowercase hex, as `ngx_hex_dump` writes it.
pub fn hex_lower(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(data.len() * 2);
    for &b in data {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn md5_vectors() {
        assert_eq!(md5_hex(b"hello"), "5d41402abc4b2a76b9719d911017c592");
        assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            hex_lower(&md5_bin(b"hello")),
            "5d41402abc4b2a76b9719d911017c592"
        );
    }

    #[test]
    fn sha1_and_hmac_vectors() {
        assert_eq!(
            hex_lower(&sha1_bin(b"hello")),
            "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
        );
        assert_eq!(
            hex_lower(&sha1_bin(b"")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        // RFC 2202 test case 2.
        assert_eq!(
            hex_lower(&hmac_sha1(b"Jefe", b"what do ya want for nothing?")),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        assert_eq!(
            encode_base64(
                &hmac_sha1(b"thisisverysecretstuff", b"some string we want to sign"),
                false
            ),
            "R/pvxzHC4NLtj7S+kXFg/NePTmk="
        );
    }

    #[test]
    fn crc32_vectors() {
        assert_eq!(crc32_short(b"hello"), 907060870);
        assert_eq!(crc32_long(b"hello"), 907060870);
        assert_eq!(crc32_long(b""), 0);
        assert_eq!(crc32_short(b"123456789"), 0xCBF43926);
    }

    #[test]
    fn base64_round_trips() {
        for (plain, padded, bare) in [
            ("", "", ""),
            ("f", "Zg==", "Zg"),
            ("fo", "Zm8=", "Zm8"),
            ("foo", "Zm9v", "Zm9v"),
            ("foob", "Zm9vYg==", "Zm9vYg"),
            ("hello", "aGVsbG8=", "aGVsbG8"),
        ] {
            assert_eq!(encode_base64(plain.as_bytes(), false), padded);
            assert_eq!(encode_base64(plain.as_bytes(), true), bare);
            assert_eq!(decode_base64(padded.as_bytes()).unwrap(), plain.as_bytes());
            assert_eq!(decode_base64(bare.as_bytes()).unwrap(), plain.as_bytes());
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(
            decode_base64(encode_base64(&all, false).as_bytes()).unwrap(),
            all
        );
        assert_eq!(
            decode_base64url(encode_base64url(&all).as_bytes()).unwrap(),
            all
        );
    }

    #[test]
    fn base64_strictness() {
        assert_eq!(decode_base64(b"a"), None);
        assert_eq!(decode_base64(b"aGVsb"), None);
        assert_eq!(decode_base64(b"aGV sbG8="), None);
        assert_eq!(decode_base64(b"aGVs\nbG8="), None);
        assert_eq!(decode_base64(b"_w"), None);
        // Everything after the first '=' is ignored, garbage included.
        assert_eq!(decode_base64(b"YQ==!!garbage").unwrap(), b"a");
        assert_eq!(decode_base64(b"=abc").unwrap(), b"");
        // Non-zero trailing bits are tolerated.
        assert_eq!(decode_base64(b"YR").unwrap(), b"a");
    }

    #[test]
    fn base64url() {
        assert_eq!(encode_base64url(b"\xff\xfe"), "__4");
        assert_eq!(encode_base64url(b"foobar"), "Zm9vYmFy");
        assert_eq!(decode_base64url(b"_w").unwrap(), b"\xff");
        assert_eq!(decode_base64url(b"Zm9vYmE").unwrap(), b"fooba");
        assert_eq!(decode_base64url(b"/w"), None);
        assert_eq!(decode_base64url(b"     "), None);
    }

    #[test]
    fn base64mime() {
        assert_eq!(decode_base64mime(b"aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64mime(b"!a#G@V s\r\nbG-8_=").unwrap(), b"hello");
        assert_eq!(decode_base64mime(b"zaaLg=="), None);
        assert_eq!(decode_base64mime(b"^&$").unwrap(), b"");
        assert_eq!(decode_base64mime(b"").unwrap(), b"");
    }
}
