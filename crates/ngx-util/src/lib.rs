//! The request-independent part of OpenResty's `ngx.*` API for moonwire.
//!
//! Pure functions with nginx / lua-nginx-module semantics (URI escaping and
//! normalization, query-string parsing, base64, digests, nginx's cached clock and its
//! time formats) plus their Lua bindings ([`register`], [`base64_module`]).

pub mod args;
pub mod codec;
pub mod escape;
mod lua;
pub mod time;

pub use args::{parse_args, parse_uri_args, Arg, ArgValue, DEFAULT_MAX_ARGS};
pub use codec::{
    crc32_long, crc32_short, decode_base64, decode_base64mime, decode_base64url, encode_base64,
    encode_base64url, hex_lower, hmac_sha1, md5_bin, md5_hex, sha1_bin,
};
pub use escape::{
    escape_uri, escape_uri_into, escaped_len, normalize_uri_path, normalize_uri_path_with,
    quote_sql_str, unescape_uri, unescape_uri_path, EscapeKind,
};
pub use lua::{args_to_table, base64_module, encode_args, lua_type_name, register};
pub use time::{
    cookie_time, err_log_time, http_date_now, http_time, localtime, now, parse_http_time, time,
    time_iso8601, time_local, today, update_time, utctime, with_err_log_time, with_http_date,
    with_time_iso8601, with_time_local, CachedTime,
};
