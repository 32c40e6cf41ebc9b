//! nginx functions that FFI-based Lua libraries call through `ffi.C`
//! (lua-resty-string's `resty.string` uses these two), exported with
//! nginx's C signatures.

/// `u_char *ngx_hex_dump(u_char *dst, u_char *src, size_t len)`: lowercase
/// hex of `src` into `dst`, returning the end of the written bytes.
///
/// # Safety
/// `dst` must have room for `2 * len` bytes and `src` must hold `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn ngx_hex_dump(dst: *mut u8, src: *const u8, len: usize) -> *mut u8 {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for i in 0..len {
        // SAFETY: the caller guarantees the sizes above.
        unsafe {
            let b = *src.add(i);
            *dst.add(2 * i) = HEX[(b >> 4) as usize];
            *dst.add(2 * i + 1) = HEX[(b & 15) as usize];
        }
    }
    // SAFETY: within (or one past) the caller's buffer.
    unsafe { dst.add(2 * len) }
}

/// `ngx_int_t ngx_atoi(u_char *line, size_t n)`: decimal digits to a
/// number, -1 (NGX_ERROR) on anything else or overflow.
///
/// # Safety
/// `line` must hold `n` bytes.
#[no_mangle]
pub unsafe extern "C" fn ngx_atoi(line: *const u8, n: usize) -> isize {
    if n == 0 {
        return -1;
    }
    let mut v: isize = 0;
    for i in 0..n {
        // SAFETY: the caller guarantees `n` readable bytes.
        let c = unsafe { *line.add(i) };
        if !c.is_ascii_digit() {
            return -1;
        }
        v = match v
            .checked_mul(10)
            .and_then(|x| x.checked_add((c - b'0') as isize))
        {
            Some(x) => x,
            None => return -1,
        };
    }
    v
}
