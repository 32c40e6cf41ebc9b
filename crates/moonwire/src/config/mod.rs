//! Lowering: the nginx-conf syntax tree becomes one typed, validated [`Config`].
//!
//! Two passes per block, as nginx merges configuration: a block's own simple
//! directives are applied first (so `root` written after a nested `location`
//! still reaches it), then its nested blocks are lowered from the result.

pub mod directives;
pub mod location;
mod values;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nginx_conf::{Directive, Quote};

use crate::log::Level;
use directives::{Args, Ctx, Use};
pub use location::{LocationMatch, Locations};
pub use values::{parse_size, parse_time_ms};

/// A config error, rendered like nginx: `unknown directive "foo" in /abs/nginx.conf:12`.
#[derive(Debug, Clone)]
pub struct ConfError(pub String);

impl std::fmt::Display for ConfError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<nginx_conf::Error> for ConfError {
    fn from(e: nginx_conf::Error) -> Self {
        ConfError(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, ConfError>;

fn err_at<T>(d: &Directive, msg: impl std::fmt::Display) -> Result<T> {
    Err(ConfError(format!("{} in {}", msg, where_(d))))
}

/// `/abs/nginx.conf:12`, or just `command line` for `-g` directives (as nginx says).
fn where_(d: &Directive) -> String {
    if d.file.as_os_str() == "command line" {
        "command line".to_string()
    } else {
        d.location()
    }
}

/// Where a Lua chunk comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkSrc {
    Inline(String),
    File(PathBuf),
}

/// A piece of Lua code named in the config. `id` is unique within one
/// config generation; each worker VM compiles a chunk once and caches it by id.
#[derive(Debug, Clone)]
pub struct LuaChunk {
    pub id: usize,
    pub src: ChunkSrc,
    /// Chunk name as OpenResty shows it in errors: `content_by_lua(nginx.conf:12)`
    /// for inline code, `@/abs/path.lua` for files.
    pub name: String,
    /// `lua_code_cache off`: recompile on every use (development mode).
    pub no_cache: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Globals {
    /// Every request gets its own global environment (default).
    Isolated,
    /// OpenResty's current behaviour: one `_G`, with a warning on writes.
    Shared,
}

#[derive(Debug, Clone)]
pub struct ErrorLogConf {
    pub path: PathBuf, // "stderr" is kept as the literal path "stderr"
    pub level: Level,
}

#[derive(Debug, Clone)]
pub struct AccessLogConf {
    pub path: PathBuf,
    pub format: Arc<Vec<LogFmtPart>>,
}

/// A compiled `log_format`: literal text and variable names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFmtPart {
    Lit(String),
    Var(String),
}

#[derive(Debug, Clone)]
pub enum ReturnBody {
    None,
    Text(Arc<Vec<LogFmtPart>>),
    Url(Arc<Vec<LogFmtPart>>),
}

/// One rewrite-module instruction.
#[derive(Debug, Clone)]
pub enum ScriptOp {
    Set {
        var: String,
        value: Arc<Vec<LogFmtPart>>,
    },
    SetLua {
        var: String,
        chunk: Arc<LuaChunk>,
        args: Vec<Arc<Vec<LogFmtPart>>>,
    },
    Return(Return),
}

#[derive(Debug, Clone, Default)]
pub struct PhaseChunks {
    pub server_rewrite: Option<Arc<LuaChunk>>,
    pub rewrite: Option<Arc<LuaChunk>>,
    pub access: Option<Arc<LuaChunk>>,
    pub precontent: Option<Arc<LuaChunk>>,
    pub header_filter: Option<Arc<LuaChunk>>,
    pub body_filter: Option<Arc<LuaChunk>>,
    pub log: Option<Arc<LuaChunk>>,
}

#[derive(Debug, Clone)]
pub struct Return {
    pub code: u16,
    pub body: ReturnBody,
}

/// Per-location settings, inherited http -> server -> location.
#[derive(Debug, Clone)]
pub struct LocConf {
    pub root: Arc<Vec<LogFmtPart>>,
    pub root_is_default: bool,
    pub alias: Option<Arc<Vec<LogFmtPart>>>,
    pub index: Arc<Vec<String>>,
    pub default_type: Arc<str>,
    pub types: Arc<HashMap<String, String>>,
    pub access_log: Option<Arc<AccessLogConf>>,
    pub error_log: Option<Arc<ErrorLogConf>>,
    pub keepalive_timeout_ms: u64,
    pub keepalive_requests: u64,
    pub client_max_body_size: u64,
    pub client_body_buffer_size: u64,
    pub client_body_timeout_ms: u64,
    pub send_timeout_ms: u64,
    pub server_tokens: bool,
    pub etag: bool,
    pub if_modified_since_exact: bool,
    /// The rewrite module's directives (`set`, `set_by_lua`, `return`) in
    /// config order; not inherited: a server's run in server-rewrite, a
    /// location's in rewrite.
    pub script: Arc<Vec<ScriptOp>>,
    pub content: Option<Arc<LuaChunk>>,
    /// `*_by_lua` handlers of the other phases (inherited downwards).
    pub phases: PhaseChunks,
    pub lua_code_cache: bool,
    pub globals: Globals,
    pub internal: bool,
    pub resolver: Option<Arc<crate::net::dns::ResolverConf>>,
    pub resolver_timeout_ms: u64,
    pub socket_connect_timeout_ms: u64,
    pub socket_send_timeout_ms: u64,
    pub socket_read_timeout_ms: u64,
    pub socket_buffer_size: usize,
    pub socket_pool_size: usize,
    pub socket_keepalive_timeout_ms: u64,
    pub socket_log_errors: bool,
    pub check_client_abort: bool,
    pub ssl_trusted_certificate: Option<PathBuf>,
    pub ssl_verify_depth: u32,
    // request bodies and request/response mutation
    pub client_body_temp_path: Arc<PathBuf>,
    pub client_body_in_file_only: bool,
    pub need_request_body: bool,
    pub transform_underscores: bool,
    pub use_default_type: bool,
}

#[derive(Debug, Clone)]
pub struct Listen {
    pub addr: std::net::SocketAddr,
    pub default_server: bool,
    pub backlog: i32,
}

#[derive(Debug, Clone)]
pub enum ServerName {
    Exact(String),
    /// `*.example.com` stored as `.example.com`
    WildStart(String),
    /// `www.example.*` stored as `www.example.`
    WildEnd(String),
    Regex(Arc<pcre2::bytes::Regex>),
}

#[derive(Debug)]
pub struct Server {
    pub listens: Vec<Listen>,
    pub names: Vec<ServerName>,
    /// The first name, for `$server_name` and error log lines.
    pub name: String,
    pub conf: LocConf,
    /// `conf` shared, for requests no location matches.
    pub default_loc: Arc<LocConf>,
    pub locations: Locations,
    pub client_header_timeout_ms: u64,
}

#[derive(Debug)]
pub struct LuaMain {
    pub package_path: Option<String>,
    pub package_cpath: Option<String>,
    pub max_pending_timers: usize,
    pub max_running_timers: usize,
    pub init: Option<Arc<LuaChunk>>,
    pub init_worker: Option<Arc<LuaChunk>>,
    pub exit_worker: Option<Arc<LuaChunk>>,
    /// rewrite_by_lua_no_postpone: run rewrite_by_lua before `set`/`return`.
    pub rewrite_no_postpone: bool,
    pub regex_cache_max_entries: usize,
    pub regex_match_limit: u32,
}

impl Default for LuaMain {
    fn default() -> Self {
        LuaMain {
            package_path: None,
            package_cpath: None,
            max_pending_timers: 1024,
            max_running_timers: 256,
            init: None,
            init_worker: None,
            exit_worker: None,
            rewrite_no_postpone: false,
            regex_cache_max_entries: 1024,
            regex_match_limit: 0,
        }
    }
}

#[derive(Debug)]
pub struct Http {
    pub servers: Vec<Arc<Server>>,
    pub lua: LuaMain,
    pub chunks: Vec<Arc<LuaChunk>>,
    /// Variables declared with `set` / `set_by_lua` anywhere: the ones
    /// `ngx.var.NAME = v` may write.
    pub user_vars: std::collections::HashSet<String>,
}

#[derive(Debug)]
pub struct Config {
    pub prefix: PathBuf,
    pub conf_file: PathBuf,
    pub worker_processes: usize,
    pub daemon: bool,
    pub error_log: ErrorLogConf,
    pub pid: PathBuf,
    pub env: Vec<(String, Option<String>)>,
    pub worker_connections: usize,
    pub http: Option<Http>,
    /// Notices to log once the error log is open (ignored directives...).
    pub notices: Vec<String>,
    /// Every file read, for `-T`.
    pub files: Vec<(PathBuf, String)>,
}

/// Everything needed to load a config: `-p`, `-c`, `-g`.
#[derive(Debug, Clone)]
pub struct LoadOpts {
    pub prefix: PathBuf,
    pub conf_file: PathBuf,
    pub global_directives: Option<String>,
}

pub fn load(opts: &LoadOpts) -> Result<Config> {
    let conf_dir = opts
        .conf_file
        .parent()
        .unwrap_or(Path::new("/"))
        .to_path_buf();
    let doc = nginx_conf::parse_file(&opts.conf_file, &conf_dir)?;
    // nginx reads -g directives before the file, so a duplicate is reported in the file
    let mut directives = Vec::new();
    if let Some(g) = &opts.global_directives {
        let gdoc = nginx_conf::parse_str(g, Path::new("command line"), &conf_dir).map_err(|e| {
            if e.message.starts_with("unexpected end of file") {
                ConfError("unexpected end of parameter, expecting \";\" in command line".into())
            } else {
                ConfError(format!("{} in command line", e.message))
            }
        })?;
        directives.extend(gdoc.directives);
    }
    directives.extend(doc.directives);
    let mut l = Lowerer {
        prefix: opts.prefix.clone(),
        conf_dir,
        chunks: Vec::new(),
        notices: Vec::new(),
        log_formats: HashMap::new(),
        user_vars: Default::default(),
    };
    let mut cfg = l.main(&directives, opts)?;
    cfg.files = doc.files;
    Ok(cfg)
}

struct Lowerer {
    prefix: PathBuf,
    conf_dir: PathBuf,
    chunks: Vec<Arc<LuaChunk>>,
    notices: Vec<String>,
    log_formats: HashMap<String, Arc<Vec<LogFmtPart>>>,
    user_vars: std::collections::HashSet<String>,
}

fn ctx_name(ctx: Ctx) -> &'static str {
    match ctx {
        directives::MAIN => "main",
        directives::EVENTS => "events",
        directives::HTTP => "http",
        directives::SERVER => "server",
        directives::LOCATION => "location",
        _ => "types",
    }
}

/// Check name, context and arity against the table; `None` for ignored directives.
fn check(d: &Directive, ctx: Ctx, notices: &mut Vec<String>) -> Result<bool> {
    let Some(spec) = directives::find(&d.name) else {
        return err_at(d, format_args!("unknown directive \"{}\"", d.name));
    };
    if spec.ctx & ctx == 0 {
        return err_at(
            d,
            format_args!("\"{}\" directive is not allowed here", d.name),
        );
    }
    let n = d.args.len();
    let is_block = d.block.is_some();
    let ok = match spec.args {
        Args::Take(k) => n == k && !is_block,
        Args::Range(a, b) => n >= a && n <= b && !is_block,
        Args::More(k) => n >= k && !is_block,
        Args::Flag => n == 1 && !is_block,
        Args::Block(a, b) => {
            if !is_block {
                return err_at(
                    d,
                    format_args!("directive \"{}\" has no opening \"{{\"", d.name),
                );
            }
            n >= a && n <= b
        }
    };
    if !ok {
        if is_block && !matches!(spec.args, Args::Block(..)) {
            return err_at(
                d,
                format_args!("directive \"{}\" is not terminated by \";\"", d.name),
            );
        }
        return err_at(
            d,
            format_args!("invalid number of arguments in \"{}\" directive", d.name),
        );
    }
    if spec.args == Args::Flag {
        let v = d.args[0].value.as_str();
        if v != "on" && v != "off" {
            return err_at(
                d,
                format_args!(
                    "invalid value \"{}\" in \"{}\" directive, it must be \"on\" or \"off\"",
                    v, d.name
                ),
            );
        }
    }
    if spec.use_ == Use::Ignored {
        notices.push(format!(
            "\"{}\" directive is ignored in {}",
            d.name,
            d.location()
        ));
        return Ok(false);
    }
    let _ = ctx_name;
    Ok(true)
}

fn flag(d: &Directive) -> bool {
    d.args[0].value == "on"
}

impl Lowerer {
    fn path(&self, p: &str) -> PathBuf {
        let pb = PathBuf::from(p);
        if pb.is_absolute() {
            pb
        } else {
            self.prefix.join(pb)
        }
    }

    fn main(&mut self, dirs: &[Directive], opts: &LoadOpts) -> Result<Config> {
        let mut cfg = Config {
            prefix: self.prefix.clone(),
            conf_file: opts.conf_file.clone(),
            worker_processes: 1,
            daemon: true,
            error_log: ErrorLogConf {
                path: self.path("logs/error.log"),
                level: Level::Error,
            },
            pid: self.path("logs/nginx.pid"),
            env: Vec::new(),
            worker_connections: 512,
            http: None,
            notices: Vec::new(),
            files: Vec::new(),
        };
        let mut http_block = None;
        let mut seen: Vec<&str> = Vec::new();
        for d in dirs {
            if !check(d, directives::MAIN, &mut self.notices)? {
                continue;
            }
            let once = [
                "worker_processes",
                "daemon",
                "master_process",
                "pid",
                "events",
            ];
            if once.contains(&d.name.as_str()) {
                if seen.contains(&d.name.as_str()) {
                    return err_at(d, format_args!("\"{}\" directive is duplicate", d.name));
                }
                seen.push(&d.name);
            }
            match d.name.as_str() {
                "worker_processes" => {
                    let v = &d.args[0].value;
                    cfg.worker_processes = if v == "auto" {
                        std::thread::available_parallelism()
                            .map(|n| n.get())
                            .unwrap_or(1)
                    } else {
                        match v.parse::<usize>() {
                            Ok(n) if n > 0 => n,
                            _ => {
                                return err_at(
                                    d,
                                    format_args!(
                                        "invalid value \"{v}\" in \"worker_processes\" directive"
                                    ),
                                )
                            }
                        }
                    };
                }
                "daemon" => cfg.daemon = flag(d),
                "master_process" => {}
                "error_log" => cfg.error_log = self.error_log(d)?,
                "pid" => cfg.pid = self.path(&d.args[0].value),
                "env" => {
                    let v = &d.args[0].value;
                    match v.split_once('=') {
                        Some((k, val)) => cfg.env.push((k.to_string(), Some(val.to_string()))),
                        None => cfg.env.push((v.clone(), None)),
                    }
                }
                "events" => {
                    for e in d.block.as_deref().unwrap_or(&[]) {
                        if !check(e, directives::EVENTS, &mut self.notices)? {
                            continue;
                        }
                        if e.name == "worker_connections" {
                            cfg.worker_connections = parse_num(e, &e.args[0].value)? as usize;
                        }
                    }
                }
                "http" => {
                    if http_block.is_some() {
                        return err_at(d, "\"http\" directive is duplicate");
                    }
                    http_block = Some(d);
                }
                _ => unreachable!("directive {} in table but not lowered", d.name),
            }
        }
        if let Some(h) = http_block {
            cfg.http = Some(self.http(h)?);
        }
        cfg.notices = std::mem::take(&mut self.notices);
        Ok(cfg)
    }

    fn error_log(&self, d: &Directive) -> Result<ErrorLogConf> {
        let path = &d.args[0].value;
        let level = match d.args.get(1) {
            None => Level::Error,
            Some(a) => match Level::parse(&a.value) {
                Some(l) => l,
                None => return err_at(d, format_args!("invalid log level \"{}\"", a.value)),
            },
        };
        let path = if path == "stderr" {
            PathBuf::from("stderr")
        } else {
            self.path(path)
        };
        Ok(ErrorLogConf { path, level })
    }

    fn default_loc_conf(&self) -> LocConf {
        LocConf {
            root: Arc::new(vec![LogFmtPart::Lit(
                self.path("html").to_string_lossy().into_owned(),
            )]),
            root_is_default: true,
            alias: None,
            index: Arc::new(vec!["index.html".to_string()]),
            default_type: Arc::from("text/plain"),
            types: Arc::new(default_types()),
            access_log: Some(Arc::new(AccessLogConf {
                path: self.path("logs/access.log"),
                format: Arc::new(combined_format()),
            })),
            error_log: None,
            keepalive_timeout_ms: 75_000,
            keepalive_requests: 1000,
            client_max_body_size: 1024 * 1024,
            client_body_buffer_size: 16 * 1024,
            client_body_timeout_ms: 60_000,
            send_timeout_ms: 60_000,
            server_tokens: true,
            etag: true,
            if_modified_since_exact: true,
            script: Arc::new(Vec::new()),
            content: None,
            phases: PhaseChunks::default(),
            lua_code_cache: true,
            globals: Globals::Isolated,
            internal: false,
            resolver: None,
            resolver_timeout_ms: 30_000,
            socket_connect_timeout_ms: 60_000,
            socket_send_timeout_ms: 60_000,
            socket_read_timeout_ms: 60_000,
            socket_buffer_size: 4096,
            socket_pool_size: 30,
            socket_keepalive_timeout_ms: 60_000,
            socket_log_errors: true,
            check_client_abort: false,
            ssl_trusted_certificate: None,
            ssl_verify_depth: 1,
            client_body_temp_path: Arc::new(self.path("client_body_temp")),
            client_body_in_file_only: false,
            need_request_body: false,
            transform_underscores: true,
            use_default_type: true,
        }
    }

    fn http(&mut self, h: &Directive) -> Result<Http> {
        let body = h.block.as_deref().unwrap_or(&[]);
        check_phase_dups(body)?;
        let mut conf = self.default_loc_conf();
        let mut lua = LuaMain::default();
        let mut server_blocks = Vec::new();
        // log_format must be known before access_log refers to it
        for d in body.iter().filter(|d| d.name == "log_format") {
            check(d, directives::HTTP, &mut self.notices)?;
            let name = d.args[0].value.clone();
            let mut parts = Vec::new();
            let mut text = String::new();
            for a in &d.args[1..] {
                if a.value.starts_with("escape=") {
                    continue;
                }
                text.push_str(&a.value);
            }
            parts.extend(compile_vars(&text));
            self.log_formats.insert(name, Arc::new(parts));
        }
        for d in body {
            if d.name == "log_format" {
                continue;
            }
            if !check(d, directives::HTTP, &mut self.notices)? {
                continue;
            }
            match d.name.as_str() {
                "server" => server_blocks.push(d),
                "lua_package_path" => lua.package_path = Some(self.lua_path(&d.args[0].value)),
                "lua_package_cpath" => lua.package_cpath = Some(self.lua_path(&d.args[0].value)),
                "lua_max_pending_timers" => {
                    lua.max_pending_timers = parse_num(d, &d.args[0].value)? as usize
                }
                "lua_max_running_timers" => {
                    lua.max_running_timers = parse_num(d, &d.args[0].value)? as usize
                }
                "init_by_lua" | "init_by_lua_block" | "init_by_lua_file" => {
                    lua.init = Some(self.chunk(d, &conf)?);
                }
                "init_worker_by_lua" | "init_worker_by_lua_block" | "init_worker_by_lua_file" => {
                    lua.init_worker = Some(self.chunk(d, &conf)?);
                }
                "exit_worker_by_lua_block" | "exit_worker_by_lua_file" => {
                    lua.exit_worker = Some(self.chunk(d, &conf)?);
                }
                "rewrite_by_lua_no_postpone" => lua.rewrite_no_postpone = flag(d),
                "access_by_lua_no_postpone" => {}
                "lua_regex_cache_max_entries" => {
                    lua.regex_cache_max_entries = parse_num(d, &d.args[0].value)? as usize
                }
                "lua_regex_match_limit" => {
                    lua.regex_match_limit =
                        parse_num(d, &d.args[0].value)?.min(u32::MAX as _) as u32
                }
                _ => self.loc_directive(d, &mut conf, directives::HTTP)?,
            }
        }
        let mut servers = Vec::new();
        for s in server_blocks {
            servers.push(Arc::new(self.server(s, &conf)?));
        }
        if servers.is_empty() {
            // nginx listens on *:80 (or 8000 when not root) with no server block;
            // a config without servers serves nothing here, which is the useful reading.
        }
        Ok(Http {
            servers,
            lua,
            chunks: std::mem::take(&mut self.chunks),
            user_vars: std::mem::take(&mut self.user_vars),
        })
    }

    /// `set $name ...`: the variable name without `$`, remembered as writable.
    fn declare_var(&mut self, d: &Directive, a0: &str) -> Result<String> {
        let Some(name) = a0.strip_prefix('$') else {
            return err_at(d, format_args!("invalid variable name \"{a0}\""));
        };
        let name = name.to_ascii_lowercase();
        self.user_vars.insert(name.clone());
        Ok(name)
    }

    fn lua_path(&self, p: &str) -> String {
        let prefix = self.prefix.to_string_lossy();
        let prefix = if prefix.ends_with('/') {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        p.replace("$prefix/", &prefix)
            .replace("${prefix}/", &prefix)
            .replace("$prefix", &prefix)
    }

    fn server(&mut self, s: &Directive, parent: &LocConf) -> Result<Server> {
        let body = s.block.as_deref().unwrap_or(&[]);
        check_phase_dups(body)?;
        let mut conf = parent.clone();
        conf.script = Arc::new(Vec::new());
        let mut listens = Vec::new();
        let mut names = Vec::new();
        let mut first_name = None;
        let mut loc_blocks = Vec::new();
        let mut header_timeout = 60_000;
        for d in body {
            if !check(d, directives::SERVER, &mut self.notices)? {
                continue;
            }
            match d.name.as_str() {
                "listen" => listens.push(parse_listen(d)?),
                "server_name" => {
                    for a in &d.args {
                        let n = a.value.to_ascii_lowercase();
                        if first_name.is_none() {
                            first_name = Some(a.value.clone());
                        }
                        names.push(parse_server_name(d, &a.value, &n)?);
                    }
                }
                "location" => loc_blocks.push(d),
                "client_header_timeout" => {
                    header_timeout = parse_time_ms(&d.args[0].value).ok_or_else(|| bad_value(d))?
                }
                _ => self.loc_directive(d, &mut conf, directives::SERVER)?,
            }
        }
        if listens.is_empty() {
            listens.push(Listen {
                addr: "0.0.0.0:80".parse().expect("literal"),
                default_server: false,
                backlog: 511,
            });
        }
        let mut locations = Locations::default();
        for l in loc_blocks {
            self.location(l, &conf, &mut locations)?;
        }
        let mut default_loc = conf.clone();
        default_loc.script = Arc::new(Vec::new());
        Ok(Server {
            listens,
            names,
            name: first_name.unwrap_or_default(),
            default_loc: Arc::new(default_loc),
            conf,
            locations,
            client_header_timeout_ms: header_timeout,
        })
    }

    fn location(&mut self, d: &Directive, parent: &LocConf, into: &mut Locations) -> Result<()> {
        let m = location::parse_match(d)?;
        let mut conf = parent.clone();
        conf.script = Arc::new(Vec::new());
        conf.content = None;
        conf.internal = matches!(m, LocationMatch::Named(_));
        let body = d.block.as_deref().unwrap_or(&[]);
        check_phase_dups(body)?;
        let mut nested = Vec::new();
        for c in body {
            if !check(c, directives::LOCATION, &mut self.notices)? {
                continue;
            }
            if c.name == "location" {
                nested.push(c);
            } else {
                self.loc_directive(c, &mut conf, directives::LOCATION)?;
            }
        }
        let mut children = Locations::default();
        if matches!(m, LocationMatch::Named(_)) && !nested.is_empty() {
            return err_at(
                d,
                format_args!(
                    "location \"{}\" cannot have inner locations",
                    d.args[0].value
                ),
            );
        }
        for n in nested {
            self.location(n, &conf, &mut children)?;
        }
        into.add(d, m, Arc::new(conf), children)
    }

    fn chunk(&mut self, d: &Directive, conf: &LocConf) -> Result<Arc<LuaChunk>> {
        self.chunk_at(d, conf, d.args.len() - 1)
    }

    /// The chunk in argument `i` (set_by_lua has it second, before its arguments).
    fn chunk_at(&mut self, d: &Directive, conf: &LocConf, i: usize) -> Result<Arc<LuaChunk>> {
        let a = &d.args[i];
        let base = d
            .name
            .trim_end_matches("_block")
            .trim_end_matches("_file")
            .to_string();
        let (src, name) = if d.name.ends_with("_file") {
            let p = self.path(&a.value);
            let name = format!("@{}", p.display());
            (ChunkSrc::File(p), name)
        } else {
            let file = d
                .file
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            (
                ChunkSrc::Inline(a.value.clone()),
                format!("={}({}:{})", base, file, d.line),
            )
        };
        if a.quote != Quote::LuaBlock && d.name.ends_with("_block") {
            return err_at(
                d,
                format_args!("invalid number of arguments in \"{}\" directive", d.name),
            );
        }
        let c = Arc::new(LuaChunk {
            id: self.chunks.len(),
            src,
            name,
            no_cache: !conf.lua_code_cache,
        });
        self.chunks.push(c.clone());
        Ok(c)
    }

    /// Directives valid in http, server and location (and a few location-only ones).
    fn loc_directive(&mut self, d: &Directive, conf: &mut LocConf, _ctx: Ctx) -> Result<()> {
        let a0 = d.args.first().map(|a| a.value.as_str()).unwrap_or("");
        match d.name.as_str() {
            "error_log" => conf.error_log = Some(Arc::new(self.error_log(d)?)),
            "root" | "alias" => {
                if (d.name == "root" && conf.alias.is_some()) || (d.name == "alias" && !conf.root_is_default) {
                    let other = if d.name == "root" { "alias" } else { "root" };
                    return err_at(d, format_args!("\"{}\" directive is duplicate, \"{}\" directive was specified earlier", d.name, other));
                }
                let v = if a0.starts_with('$') || a0.starts_with('/') { a0.to_string() } else { self.path(a0).to_string_lossy().into_owned() };
                let parts = Arc::new(compile_vars(&v));
                if d.name == "root" {
                    conf.root = parts;
                    conf.root_is_default = false;
                } else {
                    conf.alias = Some(parts);
                }
            }
            "index" => conf.index = Arc::new(d.args.iter().map(|a| a.value.clone()).collect()),
            "default_type" => conf.default_type = Arc::from(a0),
            "types" => {
                let mut m = HashMap::new();
                for t in d.block.as_deref().unwrap_or(&[]) {
                    // inside types {} each "directive" is `mime ext ext ...;`
                    if t.args.is_empty() {
                        return err_at(t, "invalid number of arguments in \"types\" directive");
                    }
                    for ext in &t.args {
                        m.insert(ext.value.to_ascii_lowercase(), t.name.clone());
                    }
                }
                conf.types = Arc::new(m);
            }
            "access_log" => {
                if a0 == "off" {
                    conf.access_log = None;
                } else {
                    let format = match d.args.get(1) {
                        None => Arc::new(combined_format()),
                        Some(f) if f.value == "combined" => Arc::new(combined_format()),
                        Some(f) => match self.log_formats.get(&f.value) {
                            Some(p) => p.clone(),
                            None => return err_at(d, format_args!("unknown log format \"{}\"", f.value)),
                        },
                    };
                    let path = if a0 == "stderr" { PathBuf::from("stderr") } else { self.path(a0) };
                    conf.access_log = Some(Arc::new(AccessLogConf { path, format }));
                }
            }
            "keepalive_timeout" => conf.keepalive_timeout_ms = parse_time_ms(a0).ok_or_else(|| bad_value(d))?,
            "keepalive_requests" => conf.keepalive_requests = parse_num(d, a0)?,
            "client_max_body_size" => conf.client_max_body_size = parse_size(a0).ok_or_else(|| bad_value(d))?,
            "client_body_buffer_size" => conf.client_body_buffer_size = parse_size(a0).ok_or_else(|| bad_value(d))?,
            "client_body_timeout" => conf.client_body_timeout_ms = parse_time_ms(a0).ok_or_else(|| bad_value(d))?,
            "send_timeout" => conf.send_timeout_ms = parse_time_ms(a0).ok_or_else(|| bad_value(d))?,
            "server_tokens" => conf.server_tokens = flag(d),
            "etag" => conf.etag = flag(d),
            "if_modified_since" => match a0 {
                "exact" => conf.if_modified_since_exact = true,
                "before" | "off" => conf.if_modified_since_exact = false,
                _ => return Err(bad_value(d)),
            },
            "return" => Arc::make_mut(&mut conf.script).push(ScriptOp::Return(parse_return(d)?)),
            "set" => {
                let var = self.declare_var(d, a0)?;
                let value = Arc::new(compile_vars(&d.args[1].value));
                Arc::make_mut(&mut conf.script).push(ScriptOp::Set { var, value });
            }
            "set_by_lua" | "set_by_lua_block" | "set_by_lua_file" => {
                let var = self.declare_var(d, a0)?;
                let chunk = self.chunk_at(d, conf, 1)?;
                if d.name == "set_by_lua_block" && d.args.len() != 2 {
                    return err_at(d, format_args!("invalid number of arguments in \"{}\" directive", d.name));
                }
                let args = d.args[2..].iter().map(|a| Arc::new(compile_vars(&a.value))).collect();
                Arc::make_mut(&mut conf.script).push(ScriptOp::SetLua { var, chunk, args });
            }
            "server_rewrite_by_lua_block" | "server_rewrite_by_lua_file" => {
                conf.phases.server_rewrite = Some(self.chunk(d, conf)?);
            }
            "rewrite_by_lua" | "rewrite_by_lua_block" | "rewrite_by_lua_file" => {
                conf.phases.rewrite = Some(self.chunk(d, conf)?);
            }
            "access_by_lua" | "access_by_lua_block" | "access_by_lua_file" => {
                conf.phases.access = Some(self.chunk(d, conf)?);
            }
            "precontent_by_lua_block" | "precontent_by_lua_file" => {
                conf.phases.precontent = Some(self.chunk(d, conf)?);
            }
            "header_filter_by_lua" | "header_filter_by_lua_block" | "header_filter_by_lua_file" => {
                conf.phases.header_filter = Some(self.chunk(d, conf)?);
            }
            "body_filter_by_lua" | "body_filter_by_lua_block" | "body_filter_by_lua_file" => {
                conf.phases.body_filter = Some(self.chunk(d, conf)?);
            }
            "log_by_lua" | "log_by_lua_block" | "log_by_lua_file" => {
                conf.phases.log = Some(self.chunk(d, conf)?);
            }
            "internal" => conf.internal = true,
            "resolver" => {
                let args: Vec<&str> = d.args.iter().map(|a| a.value.as_str()).collect();
                let r = crate::net::dns::parse_resolver(&args).map_err(|e| ConfError(format!("{e} in {}", where_(d))))?;
                conf.resolver = Some(Arc::new(r));
            }
            "resolver_timeout" => conf.resolver_timeout_ms = parse_time_ms(a0).ok_or_else(|| bad_value(d))?,
            "lua_socket_connect_timeout" => conf.socket_connect_timeout_ms = parse_time_ms(a0).ok_or_else(|| bad_value(d))?,
            "lua_socket_send_timeout" => conf.socket_send_timeout_ms = parse_time_ms(a0).ok_or_else(|| bad_value(d))?,
            "lua_socket_read_timeout" => conf.socket_read_timeout_ms = parse_time_ms(a0).ok_or_else(|| bad_value(d))?,
            "lua_socket_keepalive_timeout" => conf.socket_keepalive_timeout_ms = parse_time_ms(a0).ok_or_else(|| bad_value(d))?,
            "lua_socket_buffer_size" => conf.socket_buffer_size = parse_size(a0).ok_or_else(|| bad_value(d))? as usize,
            "lua_socket_pool_size" => conf.socket_pool_size = parse_num(d, a0)? as usize,
            "lua_socket_log_errors" => conf.socket_log_errors = flag(d),
            "lua_check_client_abort" => conf.check_client_abort = flag(d),
            "lua_ssl_trusted_certificate" => conf.ssl_trusted_certificate = Some(self.path(a0)),
            "lua_ssl_verify_depth" => conf.ssl_verify_depth = parse_num(d, a0)? as u32,
            "client_body_temp_path" => conf.client_body_temp_path = Arc::new(self.path(a0)),
            "client_body_in_file_only" => {
                conf.client_body_in_file_only = match a0 {
                    "on" | "clean" => true,
                    "off" => false,
                    _ => return err_at(d, format_args!("invalid value \"{a0}\" in \"client_body_in_file_only\" directive, it must be \"on\", \"clean\" or \"off\"")),
                }
            }
            "lua_need_request_body" => conf.need_request_body = flag(d),
            "lua_transform_underscores_in_response_headers" => conf.transform_underscores = flag(d),
            "lua_use_default_type" => conf.use_default_type = flag(d),
            "lua_code_cache" => conf.lua_code_cache = flag(d),
            "lua_request_globals" => {
                conf.globals = match a0 {
                    "isolated" => Globals::Isolated,
                    "shared" => Globals::Shared,
                    _ => return err_at(d, format_args!("invalid value \"{a0}\" in \"lua_request_globals\" directive, it must be \"isolated\" or \"shared\"")),
                }
            }
            "content_by_lua" | "content_by_lua_block" | "content_by_lua_file" => {
                if conf.content.is_some() {
                    return err_at(d, "content handler is duplicate");
                }
                conf.content = Some(self.chunk(d, conf)?);
            }
            _ => unreachable!("directive {} in table but not lowered", d.name),
        }
        let _ = &self.conf_dir;
        Ok(())
    }
}

/// nginx's "is duplicate" for a phase handler given twice in one block (a
/// handler inherited from an outer block may be replaced).
fn check_phase_dups(body: &[Directive]) -> Result<()> {
    const FAMILIES: &[&str] = &[
        "init_by_lua",
        "init_worker_by_lua",
        "exit_worker_by_lua",
        "server_rewrite_by_lua",
        "rewrite_by_lua",
        "access_by_lua",
        "precontent_by_lua",
        "header_filter_by_lua",
        "body_filter_by_lua",
        "log_by_lua",
    ];
    let mut seen = [false; FAMILIES.len()];
    for d in body {
        let base = d.name.trim_end_matches("_block").trim_end_matches("_file");
        if let Some(i) = FAMILIES.iter().position(|f| *f == base) {
            if seen[i] {
                return err_at(d, format_args!("\"{}\" directive is duplicate", d.name));
            }
            seen[i] = true;
        }
    }
    Ok(())
}

fn bad_value(d: &Directive) -> ConfError {
    let v = d.args.first().map(|a| a.value.as_str()).unwrap_or("");
    ConfError(format!(
        "invalid value \"{}\" in \"{}\" directive in {}",
        v,
        d.name,
        d.location()
    ))
}

fn parse_num(d: &Directive, v: &str) -> Result<u64> {
    v.parse::<u64>().map_err(|_| bad_value(d))
}

fn parse_listen(d: &Directive) -> Result<Listen> {
    let a = &d.args[0].value;
    let addr_str = if a.parse::<u16>().is_ok() {
        format!("0.0.0.0:{a}")
    } else if let Some(rest) = a.strip_prefix("*:") {
        format!("0.0.0.0:{rest}")
    } else if a.starts_with('[') || a.contains(':') {
        a.replace("localhost:", "127.0.0.1:")
    } else {
        let host = if a == "localhost" { "127.0.0.1" } else { a };
        format!("{host}:80")
    };
    let addr: std::net::SocketAddr = match addr_str.parse() {
        Ok(a) => a,
        Err(_) => {
            return err_at(
                d,
                format_args!("invalid host in \"{a}\" of the \"listen\" directive"),
            )
        }
    };
    let mut l = Listen {
        addr,
        default_server: false,
        backlog: 511,
    };
    for p in &d.args[1..] {
        let v = p.value.as_str();
        match v {
            "default_server" | "default" => l.default_server = true,
            "reuseport" | "bind" | "deferred" | "http2" | "fastopen" | "so_keepalive=on" => {}
            _ if v.starts_with("backlog=") => {
                l.backlog = v[8..].parse().map_err(|_| ConfError(format!("invalid backlog \"{}\" in {}", &v[8..], d.location())))?;
            }
            _ if v.starts_with("rcvbuf=") || v.starts_with("sndbuf=") || v.starts_with("so_keepalive=") => {}
            "ssl" => return err_at(d, "the \"ssl\" parameter of the \"listen\" directive is not supported by moonwire yet"),
            _ => return err_at(d, format_args!("invalid parameter \"{v}\"")),
        }
    }
    Ok(l)
}

fn parse_server_name(d: &Directive, raw: &str, lower: &str) -> Result<ServerName> {
    if let Some(re) = raw.strip_prefix('~') {
        let r = pcre2::bytes::RegexBuilder::new()
            .caseless(true)
            .build(re)
            .map_err(|e| ConfError(format!("{} in {}", e, d.location())))?;
        return Ok(ServerName::Regex(Arc::new(r)));
    }
    if let Some(rest) = lower.strip_prefix("*.") {
        return Ok(ServerName::WildStart(format!(".{rest}")));
    }
    if let Some(rest) = lower.strip_prefix('.') {
        // ".example.com" matches both example.com and *.example.com
        return Ok(ServerName::WildStart(format!(".{rest}")));
    }
    if let Some(rest) = lower.strip_suffix(".*") {
        return Ok(ServerName::WildEnd(format!("{rest}.")));
    }
    Ok(ServerName::Exact(lower.to_string()))
}

fn parse_return(d: &Directive) -> Result<Return> {
    let a0 = &d.args[0].value;
    if d.args.len() == 1 {
        if let Ok(code) = a0.parse::<u16>() {
            if code > 999 {
                return err_at(d, format_args!("invalid return code \"{a0}\""));
            }
            return Ok(Return {
                code,
                body: ReturnBody::None,
            });
        }
        if a0.starts_with("http://") || a0.starts_with("https://") || a0.starts_with("$scheme") {
            return Ok(Return {
                code: 302,
                body: ReturnBody::Url(Arc::new(compile_vars(a0))),
            });
        }
        return err_at(d, format_args!("invalid return code \"{a0}\""));
    }
    let code: u16 = match a0.parse() {
        Ok(c) if c <= 999 => c,
        _ => return err_at(d, format_args!("invalid return code \"{a0}\"")),
    };
    let text = Arc::new(compile_vars(&d.args[1].value));
    let body = if matches!(code, 301 | 302 | 303 | 307 | 308) {
        ReturnBody::Url(text)
    } else {
        ReturnBody::Text(text)
    };
    Ok(Return { code, body })
}

/// Split `text $var ${var}text` into literal and variable parts.
pub fn compile_vars(s: &str) -> Vec<LogFmtPart> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            let (name, next) = if b[i + 1] == b'{' {
                match s[i + 2..].find('}') {
                    Some(end) => (&s[i + 2..i + 2 + end], i + 3 + end),
                    None => (&s[i + 2..], b.len()),
                }
            } else {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                (&s[start..j], j)
            };
            if !name.is_empty() {
                if !lit.is_empty() {
                    out.push(LogFmtPart::Lit(std::mem::take(&mut lit)));
                }
                out.push(LogFmtPart::Var(name.to_string()));
                i = next;
                continue;
            }
        }
        let ch = s[i..].chars().next().expect("in bounds");
        lit.push(ch);
        i += ch.len_utf8();
    }
    if !lit.is_empty() {
        out.push(LogFmtPart::Lit(lit));
    }
    out
}

fn combined_format() -> Vec<LogFmtPart> {
    compile_vars(
        "$remote_addr - $remote_user [$time_local] \"$request\" $status $body_bytes_sent \"$http_referer\" \"$http_user_agent\"",
    )
}

/// nginx's built-in types when no `types {}` is given (ngx_http_core_default_types).
fn default_types() -> HashMap<String, String> {
    let mut m = HashMap::new();
    m.insert("html".into(), "text/html".into());
    m.insert("gif".into(), "image/gif".into());
    m.insert("jpg".into(), "image/jpeg".into());
    m
}
