//! moonwire: an application server that runs OpenResty-style Lua.
//!
//! nginx.conf in, one LuaJIT VM per worker thread, one coroutine per
//! request, OpenResty's `ngx.*` API. See docs/architecture.md.

pub mod api;
pub mod cli;
pub mod config;
pub mod ext;
pub mod ffi_exports;
pub mod http;
pub mod log;
pub mod lua;
pub mod net;
pub mod request;
pub mod server;
pub mod watchdog;
pub mod worker;

pub use cli::{Builder, Server};

/// The nginx version we present: tools parse `nginx -v` to pick features.
pub const NGINX_VERSION: &str = "1.22.1";
pub const NGINX_VERSION_NUM: i64 = 1_022_001;
/// lua-nginx-module version we claim (libraries check >= 9011, 10025 ...).
pub const NGX_LUA_VERSION: i64 = 10026;
pub const CONFIGURE_ARGS: &str =
    "--with-http_ssl_module --with-threads --with-pcre-jit --add-module=moonwire";

pub fn server_software() -> String {
    format!("nginx/{NGINX_VERSION}")
}
