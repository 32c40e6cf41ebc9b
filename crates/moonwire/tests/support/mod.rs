//! Shared helpers for moonwire's integration tests: a server under test in a
//! temporary prefix, nginx.conf templates, and a tiny blocking HTTP/1.1
//! client (no HTTP crates, so the tests see exactly the bytes on the wire).
//!
//! Each test binary includes this with `mod support;` and uses a subset of
//! it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod mock_peer;

use std::fs;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How long to wait for a started server to report its port.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a stopped server may take to exit before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// Default socket read/write timeout of the HTTP client.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// The server binary under test. (Other crates' tests include this file
/// too and start their own binary with [`TestServer::try_start_bin`].)
pub fn moonwire_bin() -> &'static str {
    option_env!("CARGO_BIN_EXE_moonwire").unwrap_or("moonwire")
}

// ---------------------------------------------------------------------------
// nginx.conf templates
// ---------------------------------------------------------------------------

/// A whole nginx.conf in Test::Nginx's shape, with the error log at `debug`.
pub fn conf(main: &str, http: &str, server: &str) -> String {
    conf_with_level("debug", main, http, server)
}

/// Like [`conf`], with the error log at `level`.
pub fn conf_with_level(level: &str, main: &str, http: &str, server: &str) -> String {
    format!(
        "worker_processes 1;
daemon off;
master_process off;
error_log logs/error.log {level};
pid logs/nginx.pid;

{main}

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    default_type text/plain;
    keepalive_timeout 68;

{http}

    server {{
        listen 127.0.0.1:0;
        server_name localhost;
        client_max_body_size 30M;

{server}
    }}
}}
"
    )
}

// ---------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------

/// A moonwire process running in the foreground in a temporary prefix.
/// Stopped (SIGTERM, then SIGKILL) when dropped.
pub struct TestServer {
    child: Option<Child>,
    dir: tempfile::TempDir,
    ports: Vec<(String, SocketAddr)>,
    exit: Option<ExitStatus>,
}

impl TestServer {
    /// Start a server with `conf_text` as `conf/nginx.conf`.
    pub fn start(conf_text: &str) -> TestServer {
        Self::start_with(|_| {}, conf_text)
    }

    /// Start a server after `prefix_setup` has populated the prefix (it
    /// already has `conf/`, `logs/` and `html/`).
    pub fn start_with(prefix_setup: impl FnOnce(&Path), conf_text: &str) -> TestServer {
        match Self::try_start_with(prefix_setup, conf_text, &[]) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    /// Like [`start_with`](Self::start_with), with extra command-line
    /// arguments after `-p PREFIX -c conf/nginx.conf`, and an error (with
    /// stderr and the error log) instead of a panic when it does not come up.
    pub fn try_start_with(
        prefix_setup: impl FnOnce(&Path),
        conf_text: &str,
        extra_args: &[&str],
    ) -> Result<TestServer, String> {
        Self::try_start_bin(moonwire_bin(), false, prefix_setup, conf_text, extra_args)
    }

    /// Start `bin` (moonwire, or a real nginx to compare with). With
    /// `fixed_port`, `127.0.0.1:0` in the config is replaced by a free port
    /// chosen here (for servers that cannot listen on port 0 and do not
    /// write `MOONWIRE_PORTS_FILE`), and the server is up once it accepts.
    pub fn try_start_bin(
        bin: &str,
        fixed_port: bool,
        prefix_setup: impl FnOnce(&Path),
        conf_text: &str,
        extra_args: &[&str],
    ) -> Result<TestServer, String> {
        let mut conf_owned = conf_text.to_string();
        let mut fixed: Option<SocketAddr> = None;
        if fixed_port {
            let l = std::net::TcpListener::bind("127.0.0.1:0")
                .map_err(|e| format!("cannot find a free port: {e}"))?;
            let a = l.local_addr().map_err(|e| e.to_string())?;
            drop(l);
            conf_owned = conf_owned.replace("127.0.0.1:0", &a.to_string());
            fixed = Some(a);
        }
        let conf_text = conf_owned.as_str();
        let dir = tempfile::Builder::new()
            .prefix("moonwire-test-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary prefix: {e}"))?;
        let prefix = dir.path().to_path_buf();
        for sub in ["conf", "logs", "html"] {
            fs::create_dir_all(prefix.join(sub)).map_err(|e| format!("mkdir {sub}: {e}"))?;
        }
        fs::write(prefix.join("conf/nginx.conf"), conf_text)
            .map_err(|e| format!("cannot write nginx.conf: {e}"))?;
        prefix_setup(&prefix);

        let ports_file = prefix.join("ports.txt");
        let stdout = fs::File::create(prefix.join("stdout.txt")).map_err(|e| e.to_string())?;
        let stderr = fs::File::create(prefix.join("stderr.txt")).map_err(|e| e.to_string())?;
        let mut prefix_arg = prefix.as_os_str().to_owned();
        prefix_arg.push("/");
        let child = Command::new(bin)
            .arg("-p")
            .arg(&prefix_arg)
            .arg("-c")
            .arg("conf/nginx.conf")
            .args(extra_args)
            .current_dir(&prefix)
            .env("MOONWIRE_PORTS_FILE", &ports_file)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot run {bin}: {e}"))?;
        let mut server = TestServer {
            child: Some(child),
            dir,
            ports: Vec::new(),
            exit: None,
        };

        // Ephemeral listens are reported in the ports file; a config with
        // fixed ports only is up once its pid file exists.
        let wanted = ephemeral_listens(conf_text);
        let pid_file =
            pid_path(conf_text, &prefix).unwrap_or_else(|| prefix.join("logs/nginx.pid"));
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let text = fs::read_to_string(&ports_file).unwrap_or_default();
            let ports = parse_ports(&text);
            let up = if let Some(a) = fixed {
                if TcpStream::connect_timeout(&a, Duration::from_millis(100)).is_ok() {
                    server.ports = vec![("127.0.0.1:0".to_string(), a)];
                    return Ok(server);
                }
                false
            } else if wanted == 0 {
                pid_file.exists()
            } else {
                ports.len() >= wanted
            };
            if up {
                server.ports = ports;
                // The pid file is written just after the sockets are bound.
                if let Some(pid) = pid_path(conf_text, &prefix) {
                    let pid_deadline = Instant::now() + Duration::from_secs(2);
                    while !pid.exists() && Instant::now() < pid_deadline {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                return Ok(server);
            }
            if let Some(status) = server.try_wait() {
                return Err(format!(
                    "{bin} exited ({status}) before reporting a port\n--- stderr:\n{}\n--- error log:\n{}",
                    server.stderr(),
                    server.error_log()
                ));
            }
            if Instant::now() > deadline {
                let stderr = server.stderr();
                let log = server.error_log();
                server.stop();
                return Err(format!(
                    "{bin} did not report a port within {START_TIMEOUT:?}\n--- stderr:\n{stderr}\n--- error log:\n{log}"
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The first listening port.
    pub fn port(&self) -> u16 {
        self.addr().port()
    }

    /// The first listening address.
    pub fn addr(&self) -> SocketAddr {
        match self.ports.first() {
            Some((_, a)) => *a,
            None => panic!("the server reported no ephemeral (`listen ...:0`) port"),
        }
    }

    /// Every `(configured address, bound address)` the server reported.
    pub fn ports(&self) -> &[(String, SocketAddr)] {
        &self.ports
    }

    /// The temporary prefix directory (`-p`).
    pub fn prefix(&self) -> &Path {
        self.dir.path()
    }

    pub fn error_log_path(&self) -> PathBuf {
        self.prefix().join("logs/error.log")
    }

    /// The whole error log so far (lossy UTF-8; empty when absent).
    pub fn error_log(&self) -> String {
        read_lossy(&self.error_log_path())
    }

    /// The error log's size in bytes, to read only what a request adds.
    pub fn error_log_len(&self) -> u64 {
        fs::metadata(self.error_log_path())
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// The error log from byte offset `from` on.
    pub fn error_log_since(&self, from: u64) -> String {
        let mut f = match fs::File::open(self.error_log_path()) {
            Ok(f) => f,
            Err(_) => return String::new(),
        };
        let mut buf = Vec::new();
        let _ = f.read_to_end(&mut buf);
        let from = (from as usize).min(buf.len());
        String::from_utf8_lossy(&buf[from..]).into_owned()
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        read_lossy(&self.prefix().join("stderr.txt"))
    }

    /// What the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        read_lossy(&self.prefix().join("stdout.txt"))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// The pid the server wrote to its pid file, if any.
    pub fn pid_file(&self) -> Option<u32> {
        fs::read_to_string(self.prefix().join("logs/nginx.pid"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    /// Send `sig` (e.g. `libc::SIGHUP`) to the server process.
    pub fn signal(&self, sig: i32) {
        if self.exit.is_some() {
            return;
        }
        if let Some(c) = &self.child {
            // SAFETY: plain kill(2) on our own child's pid.
            unsafe {
                libc::kill(c.id() as libc::pid_t, sig);
            }
        }
    }

    /// The exit status if the process has exited (reaps it).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(st)) = c.try_wait() {
                    self.exit = Some(st);
                }
            }
        }
        self.exit
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.try_wait().is_none()
    }

    /// Wait up to `timeout` for the process to exit.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = self.try_wait() {
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGTERM, wait up to [`STOP_TIMEOUT`], then SIGKILL. Returns the exit
    /// status and whether the process exited by itself (not killed).
    pub fn stop(&mut self) -> (Option<ExitStatus>, bool) {
        if self.child.is_none() {
            return (self.exit, true);
        }
        self.signal(libc::SIGTERM);
        if let Some(st) = self.wait_exit(STOP_TIMEOUT) {
            return (Some(st), true);
        }
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            if let Ok(st) = c.wait() {
                self.exit = Some(st);
            }
        }
        (self.exit, false)
    }

    /// Open a keep-alive client connection.
    pub fn client(&self) -> Client {
        Client::connect(self.port()).unwrap_or_else(|e| panic!("connect to {}: {e}", self.addr()))
    }

    /// `GET path` on a fresh connection (`Connection: close`).
    pub fn get(&self, path: &str) -> Response {
        get(self.port(), path)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if self.try_wait().is_none() {
            self.stop();
        }
    }
}

/// How many distinct `listen ADDR:0` addresses a config has.
fn ephemeral_listens(conf: &str) -> usize {
    let mut seen: Vec<&str> = Vec::new();
    let mut toks = conf
        .split(|c: char| c.is_whitespace() || c == ';' || c == '{' || c == '}')
        .filter(|t| !t.is_empty());
    while let Some(t) = toks.next() {
        if t == "listen" {
            if let Some(a) = toks.next() {
                if a.ends_with(":0") && !seen.contains(&a) {
                    seen.push(a);
                }
            }
        }
    }
    seen.len()
}

/// The pid file a config names (`pid` in the main context), as a path.
fn pid_path(conf: &str, prefix: &Path) -> Option<PathBuf> {
    // Main-context directives come before the first block.
    let main = conf.split('{').next().unwrap_or("");
    let mut toks = main
        .split(|c: char| c.is_whitespace() || c == ';')
        .filter(|t| !t.is_empty());
    while let Some(t) = toks.next() {
        if t == "pid" {
            let p = Path::new(toks.next()?);
            return Some(if p.is_absolute() {
                p.to_path_buf()
            } else {
                prefix.join(p)
            });
        }
    }
    None
}

/// Complete `configured real` lines of the ports file (the writer may be
/// mid-line).
fn parse_ports(text: &str) -> Vec<(String, SocketAddr)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(nl) = rest.find('\n') {
        let line = &rest[..nl];
        rest = &rest[nl + 1..];
        let mut it = line.split_whitespace();
        if let (Some(conf), Some(real)) = (it.next(), it.next()) {
            if let Ok(a) = real.parse() {
                out.push((conf.to_string(), a));
            }
        }
    }
    out
}

pub fn read_lossy(p: &Path) -> String {
    fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// HTTP/1.1 client
// ---------------------------------------------------------------------------

/// One parsed response.
#[derive(Debug, Clone, Default)]
pub struct Response {
    /// `HTTP/1.1` etc.
    pub version: String,
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Status line and header lines as received (without the empty line).
    pub raw_head: String,
    /// Whether the body came with `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// Chunked trailers, if any.
    pub trailers: Vec<(String, String)>,
}

impl Response {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A connection that may carry several requests (keep-alive, pipelining).
pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Whether the peer closed its side.
    eof: bool,
}

impl Client {
    pub fn connect(port: u16) -> io::Result<Client> {
        Self::connect_timeout(port, IO_TIMEOUT)
    }

    pub fn connect_timeout(port: u16, timeout: Duration) -> io::Result<Client> {
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let stream = TcpStream::connect_timeout(&addr, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(timeout))?;
        stream.set_nodelay(true)?;
        Ok(Client {
            stream,
            buf: Vec::new(),
            eof: false,
        })
    }

    pub fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        self.stream.set_read_timeout(Some(timeout))?;
        self.stream.set_write_timeout(Some(timeout))
    }

    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Write raw bytes (one or several requests).
    pub fn send(&mut self, raw: &[u8]) -> io::Result<()> {
        self.stream.write_all(raw)?;
        self.stream.flush()
    }

    /// Close our sending side (half-close).
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    /// Read one response; `head_request` says it answers a HEAD (no body).
    pub fn read_response(&mut self, head_request: bool) -> io::Result<Response> {
        let head_end = loop {
            if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                break p;
            }
            if self.eof {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "connection closed before a complete response head (got {:?})",
                        String::from_utf8_lossy(&self.buf)
                    ),
                ));
            }
            self.fill()?;
        };
        let head: Vec<u8> = self.buf.drain(..head_end + 4).collect();
        let raw_head = String::from_utf8_lossy(&head[..head_end]).into_owned();
        let mut resp = parse_head(&raw_head)?;
        let no_body =
            head_request || resp.status / 100 == 1 || resp.status == 204 || resp.status == 304;
        let te = resp
            .header("transfer-encoding")
            .map(|s| s.to_ascii_lowercase());
        if no_body {
            return Ok(resp);
        }
        if te.as_deref().is_some_and(|t| t.contains("chunked")) {
            resp.chunked = true;
            self.read_chunked(&mut resp)?;
        } else if let Some(cl) = resp.header("content-length") {
            let n: usize = cl.trim().parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad Content-Length {cl:?}"),
                )
            })?;
            resp.body = self.take_exact(n)?;
        } else {
            while !self.eof {
                self.fill()?;
            }
            resp.body = std::mem::take(&mut self.buf);
        }
        Ok(resp)
    }

    /// Send one request and read its response.
    pub fn request(&mut self, raw: &[u8]) -> io::Result<Response> {
        self.send(raw)?;
        self.read_response(raw.starts_with(b"HEAD "))
    }

    /// `GET path` with keep-alive.
    pub fn get(&mut self, path: &str) -> io::Result<Response> {
        self.request(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
    }

    /// Read until the server closes the connection; returns what arrived.
    pub fn read_to_close(&mut self) -> io::Result<Vec<u8>> {
        while !self.eof {
            self.fill()?;
        }
        Ok(std::mem::take(&mut self.buf))
    }

    /// Whether the server closed the connection within `timeout` (any
    /// unread bytes stay buffered).
    pub fn closed_within(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(20)));
        while !self.eof && Instant::now() < deadline {
            match self.fill() {
                Ok(()) => {}
                Err(e) if is_timeout(&e) => {}
                Err(_) => self.eof = true,
            }
        }
        let _ = self.stream.set_read_timeout(Some(IO_TIMEOUT));
        self.eof
    }

    /// Bytes received but not yet consumed by a response.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    fn fill(&mut self) -> io::Result<()> {
        let mut tmp = [0u8; 16384];
        match self.stream.read(&mut tmp) {
            Ok(0) => {
                self.eof = true;
                Ok(())
            }
            Ok(n) => {
                self.buf.extend_from_slice(&tmp[..n]);
                Ok(())
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
            // A reset after the server sent everything and closed counts as EOF.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                self.eof = true;
                Ok(())
            }
            Err(e) if is_timeout(&e) => Err(io::Error::new(
                e.kind(),
                format!(
                    "timed out reading the response (got so far: {:?})",
                    String::from_utf8_lossy(&self.buf)
                ),
            )),
            Err(e) => Err(e),
        }
    }

    fn take_exact(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.eof {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "connection closed after {} of {n} body bytes ({:?})",
                        self.buf.len(),
                        String::from_utf8_lossy(&self.buf)
                    ),
                ));
            }
            self.fill()?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    fn take_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(p) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..p + 2).collect();
                return Ok(String::from_utf8_lossy(&line[..p]).into_owned());
            }
            if self.eof {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "connection closed inside a chunked body ({:?})",
                        String::from_utf8_lossy(&self.buf)
                    ),
                ));
            }
            self.fill()?;
        }
    }

    fn read_chunked(&mut self, resp: &mut Response) -> io::Result<()> {
        loop {
            let line = self.take_line()?;
            let size_str = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size_str, 16).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad chunk size line {line:?}"),
                )
            })?;
            if size == 0 {
                loop {
                    let t = self.take_line()?;
                    if t.is_empty() {
                        return Ok(());
                    }
                    if let Some((n, v)) = t.split_once(':') {
                        resp.trailers
                            .push((n.trim().to_string(), v.trim().to_string()));
                    }
                }
            }
            let data = self.take_exact(size + 2)?;
            if &data[size..] != b"\r\n" {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "chunk data not followed by CRLF",
                ));
            }
            resp.body.extend_from_slice(&data[..size]);
        }
    }
}

pub fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(raw: &str) -> io::Result<Response> {
    let bad = |m: String| io::Error::new(io::ErrorKind::InvalidData, m);
    let mut lines = raw.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or("").to_string();
    if !version.starts_with("HTTP/") {
        return Err(bad(format!("bad status line {status_line:?}")));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let reason = parts.next().unwrap_or("").to_string();
    let mut headers = Vec::new();
    for l in lines {
        let (n, v) = l
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header line {l:?}")))?;
        headers.push((n.to_string(), v.trim().to_string()));
    }
    Ok(Response {
        version,
        status,
        reason,
        headers,
        raw_head: raw.to_string(),
        ..Default::default()
    })
}

/// Send raw request bytes on a fresh connection and read one response.
pub fn try_request(port: u16, raw: &[u8]) -> io::Result<Response> {
    let mut c = Client::connect(port)?;
    c.request(raw)
}

/// Like [`try_request`], panicking on I/O errors.
pub fn request(port: u16, raw: &[u8]) -> Response {
    try_request(port, raw).unwrap_or_else(|e| {
        panic!(
            "request {:?} on port {port}: {e}",
            String::from_utf8_lossy(raw)
        )
    })
}

/// `GET path` on a fresh connection with `Connection: close`.
pub fn get(port: u16, path: &str) -> Response {
    request(
        port,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}
