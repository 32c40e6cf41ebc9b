//! The directive table: every directive moonwire accepts, where it may appear
//! and how many arguments it takes. Checked in one place so that "unknown
//! directive", "is not allowed here" and "invalid number of arguments" read
//! exactly as nginx prints them.

/// Contexts a directive may appear in (a bit set, like nginx's NGX_*_CONF).
pub type Ctx = u16;
pub const MAIN: Ctx = 1;
pub const EVENTS: Ctx = 2;
pub const HTTP: Ctx = 4;
pub const SERVER: Ctx = 8;
pub const LOCATION: Ctx = 16;
pub const TYPES: Ctx = 32;
pub const HSL: Ctx = HTTP | SERVER | LOCATION;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Args {
    /// Exactly N arguments.
    Take(usize),
    /// Between min and max arguments (inclusive).
    Range(usize, usize),
    /// At least N.
    More(usize),
    /// `on` or `off`.
    Flag,
    /// A `{ ... }` block with the given number of arguments before it.
    Block(usize, usize),
}

/// What the server does with a directive that has no meaning here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    Yes,
    /// Accepted and ignored with a `[notice]` (nginx process/tuning knobs).
    Ignored,
}

pub struct Spec {
    pub name: &'static str,
    pub ctx: Ctx,
    pub args: Args,
    pub use_: Use,
}

const fn d(name: &'static str, ctx: Ctx, args: Args) -> Spec {
    Spec {
        name,
        ctx,
        args,
        use_: Use::Yes,
    }
}

const fn ignored(name: &'static str, ctx: Ctx, args: Args) -> Spec {
    Spec {
        name,
        ctx,
        args,
        use_: Use::Ignored,
    }
}

use Args::*;

pub static TABLE: &[Spec] = &[
    // main
    d("worker_processes", MAIN, Take(1)),
    d("daemon", MAIN, Flag),
    d("master_process", MAIN, Flag),
    d("error_log", MAIN | HSL, Range(1, 2)),
    d("pid", MAIN, Take(1)),
    d("env", MAIN, Take(1)),
    d("events", MAIN, Block(0, 0)),
    d("http", MAIN, Block(0, 0)),
    ignored("user", MAIN, Range(1, 2)),
    ignored("load_module", MAIN, Take(1)),
    ignored("worker_rlimit_nofile", MAIN, Take(1)),
    ignored("worker_rlimit_core", MAIN, Take(1)),
    ignored("worker_cpu_affinity", MAIN, More(1)),
    ignored("worker_priority", MAIN, Take(1)),
    ignored("worker_shutdown_timeout", MAIN, Take(1)),
    ignored("timer_resolution", MAIN, Take(1)),
    ignored("pcre_jit", MAIN, Flag),
    ignored("thread_pool", MAIN, Range(2, 3)),
    ignored("working_directory", MAIN, Take(1)),
    // events
    d("worker_connections", EVENTS, Take(1)),
    ignored("accept_mutex", EVENTS, Flag),
    ignored("accept_mutex_delay", EVENTS, Take(1)),
    ignored("multi_accept", EVENTS, Flag),
    ignored("use", EVENTS, Take(1)),
    // http / server / location
    d("server", HTTP, Block(0, 0)),
    d("location", SERVER | LOCATION, Block(1, 2)),
    d("listen", SERVER, More(1)),
    d("server_name", SERVER, More(1)),
    d("types", HSL, Block(0, 0)),
    d("default_type", HSL, Take(1)),
    d("access_log", HSL, Range(1, 3)),
    d("log_format", HTTP, More(2)),
    d("keepalive_timeout", HSL, Range(1, 2)),
    d("keepalive_requests", HSL, Take(1)),
    d("client_max_body_size", HSL, Take(1)),
    d("client_body_buffer_size", HSL, Take(1)),
    d("client_header_timeout", HTTP | SERVER, Take(1)),
    d("client_body_timeout", HSL, Take(1)),
    d("send_timeout", HSL, Take(1)),
    d("root", HSL, Take(1)),
    d("alias", LOCATION, Take(1)),
    d("index", HSL, More(1)),
    d("return", SERVER | LOCATION, Range(1, 2)),
    d("internal", LOCATION, Take(0)),
    d("server_tokens", HSL, Flag),
    d("etag", HSL, Flag),
    d("if_modified_since", HSL, Take(1)),
    ignored("proxy_temp_path", HSL, Range(1, 4)),
    ignored("fastcgi_temp_path", HSL, Range(1, 4)),
    ignored("uwsgi_temp_path", HSL, Range(1, 4)),
    ignored("scgi_temp_path", HSL, Range(1, 4)),
    ignored("sendfile", HSL, Flag),
    ignored("tcp_nopush", HSL, Flag),
    ignored("tcp_nodelay", HSL, Flag),
    ignored("server_names_hash_bucket_size", HTTP, Take(1)),
    ignored("server_names_hash_max_size", HTTP, Take(1)),
    ignored("types_hash_max_size", HSL, Take(1)),
    ignored("types_hash_bucket_size", HSL, Take(1)),
    ignored("variables_hash_max_size", HTTP, Take(1)),
    ignored("variables_hash_bucket_size", HTTP, Take(1)),
    ignored("reset_timedout_connection", HSL, Flag),
    ignored("lingering_close", HSL, Take(1)),
    ignored("lingering_timeout", HSL, Take(1)),
    ignored("large_client_header_buffers", HTTP | SERVER, Take(2)),
    ignored("client_header_buffer_size", HTTP | SERVER, Take(1)),
    ignored("charset", HSL, Take(1)),
    ignored("gzip", HSL, Flag),
    ignored("postpone_output", HSL, Take(1)),
    ignored("output_buffers", HSL, Take(2)),
    ignored("open_file_cache", HSL, Range(1, 2)),
    ignored("ssl_protocols", HTTP | SERVER, More(1)),
    ignored("ssl_prefer_server_ciphers", HTTP | SERVER, Flag),
    d("resolver", HSL, More(1)),
    d("lua_socket_connect_timeout", HSL, Take(1)),
    d("lua_socket_send_timeout", HSL, Take(1)),
    d("lua_socket_read_timeout", HSL, Take(1)),
    d("lua_socket_keepalive_timeout", HSL, Take(1)),
    d("lua_socket_buffer_size", HSL, Take(1)),
    d("lua_socket_pool_size", HSL, Take(1)),
    d("lua_socket_log_errors", HSL, Flag),
    d("lua_check_client_abort", HSL, Flag),
    d("lua_ssl_trusted_certificate", HSL, Take(1)),
    d("lua_ssl_verify_depth", HSL, Take(1)),
    ignored("lua_socket_send_lowat", HSL, Take(1)),
    d("resolver_timeout", HSL, Take(1)),
    // request bodies and request/response mutation
    d("client_body_temp_path", HSL, Range(1, 4)),
    d("client_body_in_file_only", HSL, Take(1)),
    ignored("client_body_in_single_buffer", HSL, Flag),
    d("lua_need_request_body", HSL, Flag),
    d("lua_transform_underscores_in_response_headers", HSL, Flag),
    d("lua_use_default_type", HSL, Flag),
    // lua: code loading
    d("lua_package_path", HTTP, Take(1)),
    d("lua_package_cpath", HTTP, Take(1)),
    d("lua_code_cache", HSL, Flag),
    d("lua_request_globals", HTTP | SERVER | LOCATION, Take(1)),
    d("content_by_lua", LOCATION, Take(1)),
    d("content_by_lua_block", LOCATION, Take(1)),
    d("content_by_lua_file", LOCATION, Take(1)),
    // lua: the other phases
    d("init_by_lua", HTTP, Take(1)),
    d("init_by_lua_block", HTTP, Take(1)),
    d("init_by_lua_file", HTTP, Take(1)),
    d("init_worker_by_lua", HTTP, Take(1)),
    d("init_worker_by_lua_block", HTTP, Take(1)),
    d("init_worker_by_lua_file", HTTP, Take(1)),
    d("exit_worker_by_lua_block", HTTP, Take(1)),
    d("exit_worker_by_lua_file", HTTP, Take(1)),
    d("set_by_lua", SERVER | LOCATION, More(2)),
    d("set_by_lua_block", SERVER | LOCATION, Take(2)),
    d("set_by_lua_file", SERVER | LOCATION, More(2)),
    d("set", SERVER | LOCATION, Take(2)),
    d("server_rewrite_by_lua_block", HTTP | SERVER, Take(1)),
    d("server_rewrite_by_lua_file", HTTP | SERVER, Take(1)),
    d("rewrite_by_lua", HSL, Take(1)),
    d("rewrite_by_lua_block", HSL, Take(1)),
    d("rewrite_by_lua_file", HSL, Take(1)),
    d("rewrite_by_lua_no_postpone", HTTP, Flag),
    d("access_by_lua", HSL, Take(1)),
    d("access_by_lua_block", HSL, Take(1)),
    d("access_by_lua_file", HSL, Take(1)),
    d("access_by_lua_no_postpone", HTTP, Flag),
    d("precontent_by_lua_block", HSL, Take(1)),
    d("precontent_by_lua_file", HSL, Take(1)),
    d("header_filter_by_lua", HSL, Take(1)),
    d("header_filter_by_lua_block", HSL, Take(1)),
    d("header_filter_by_lua_file", HSL, Take(1)),
    d("body_filter_by_lua", HSL, Take(1)),
    d("body_filter_by_lua_block", HSL, Take(1)),
    d("body_filter_by_lua_file", HSL, Take(1)),
    d("log_by_lua", HSL, Take(1)),
    d("log_by_lua_block", HSL, Take(1)),
    d("log_by_lua_file", HSL, Take(1)),
    d("lua_max_pending_timers", HTTP, Take(1)),
    d("lua_max_running_timers", HTTP, Take(1)),
    d("lua_regex_cache_max_entries", HTTP, Take(1)),
    d("lua_regex_match_limit", HTTP, Take(1)),
    ignored("lua_load_resty_core", HTTP, Flag),
    ignored("lua_thread_cache_max_entries", HTTP, Take(1)),
    ignored("lua_malloc_trim", HTTP, Take(1)),
    ignored("lua_sa_restart", HTTP, Flag),
];

pub fn find(name: &str) -> Option<&'static Spec> {
    TABLE.iter().find(|s| s.name == name)
}
