//! Link flags for the `moonwire` binary.
//!
//! FFI-based OpenResty libraries reach C through LuaJIT's `ffi.C`, which
//! looks symbols up in the running executable: lua-resty-string calls
//! libcrypto (SHA256_Init, MD5_Init, RAND_bytes ...) and nginx's own
//! `ngx_hex_dump`. So the binary exports its symbols (--export-dynamic) and
//! links libcrypto even though no Rust code calls it (--no-as-needed).

fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,--export-dynamic");
    println!("cargo:rustc-link-arg-bins=-Wl,--no-as-needed");
    println!("cargo:rustc-link-arg-bins=-l:libcrypto.so.3");
    println!("cargo:rustc-link-arg-bins=-Wl,--as-needed");
}
