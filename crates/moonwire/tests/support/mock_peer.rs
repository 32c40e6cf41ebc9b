//! Scripted network peers for cosocket tests: a TCP (or unix-domain
//! stream) peer that plays a script on every connection it accepts, a UDP peer that answers each
//! datagram, and a tiny DNS server for the `resolver` directive.
//!
//! Each peer listens on `127.0.0.1:0` (or a given address), runs in
//! background threads and records what it received, so a test can check
//! both what the server under test sent and how it handled the replies.
//! Dropping a peer stops it (connections still open are closed).
//!
//! ```ignore
//! use support::mock_peer::{MockPeer, Script};
//! let peer = MockPeer::start(Script::new().expect(b"ping\n").send(b"pong\n").close());
//! // ... a request whose Lua connects to 127.0.0.1:peer.port() ...
//! assert_eq!(peer.received(0).unwrap(), b"ping\n");
//! assert!(peer.errors().is_empty());
//! ```
//!
//! Scripts can also be written as text (the spec runner's `--- tcp_script`
//! section), one step a line, see [`Script::parse`]:
//!
//! ```text
//! expect "GET / HTTP/1.0\r\n\r\n"   # read exactly these bytes, record a mismatch
//! read 5                            # read exactly 5 bytes (less if the peer closes)
//! read_some                         # one read of up to 4096 bytes
//! read_line                         # read up to and including "\n"
//! read_until "\r\n\r\n"             # read up to and including the delimiter
//! read_to_eof                       # read until the client half-closes or closes
//! send "hello\r\n"                  # write the bytes at once
//! send_bytewise 10ms "hello"        # write one byte at a time, sleeping before each byte
//! sleep 100ms
//! shutdown_write                    # half-close (FIN), keep reading possible
//! shutdown_read
//! reset                             # SO_LINGER 0 then close: the client gets RST
//! close                             # close (the default when the script ends)
//! hold                              # keep the connection open, recording input, until the client closes
//! echo                              # send back everything received until the client closes
//! echo_lines                        # read lines and send each back, until the client closes
//! repeat                            # start the script again on the same connection (keep-alive)
//! ```
//!
//! Strings are Perl double-quoted literals (`\r \n \t \0 \\ \" \$ \xHH
//! \x{HHH}`), optionally joined with `.` and repeated with `x N`; see
//! [`perl_strings`].

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How often blocking reads wake up to check whether the peer is stopping.
const POLL: Duration = Duration::from_millis(50);
/// The longest a single read step waits for data before giving up.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------
// Scripts
// ---------------------------------------------------------------------------

/// One step of a TCP peer's script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Read exactly as many bytes as given; a difference is recorded in
    /// [`MockPeer::errors`] and ends the connection (closed).
    Expect(Vec<u8>),
    /// Read exactly N bytes (fewer if the client closes first).
    Read(usize),
    /// One `read()` of up to 4096 bytes (Test::Nginx's default).
    ReadSome,
    /// Read up to and including the delimiter.
    ReadUntil(Vec<u8>),
    /// Read until the client shuts down its sending side or closes.
    ReadToEof,
    /// Write the bytes.
    Send(Vec<u8>),
    /// Write one byte at a time, sleeping `delay` before each one (with
    /// `TCP_NODELAY`, so each byte is its own segment).
    SendBytewise(Vec<u8>, Duration),
    /// Do nothing for a while.
    Sleep(Duration),
    /// `shutdown(SHUT_WR)`: the client reads EOF, the connection stays open.
    ShutdownWrite,
    /// `shutdown(SHUT_RD)`.
    ShutdownRead,
    /// `SO_LINGER` 0 and close: the client gets a reset.
    Reset,
    /// Close the connection (also what happens when the script runs out).
    Close,
    /// Keep the connection open, recording what arrives, until the client
    /// closes it or the peer is stopped.
    Hold,
    /// Send back whatever arrives until the client closes.
    Echo,
    /// Read `\n`-terminated lines and send each back, until the client closes.
    EchoLines,
    /// Run the script again from the first step on the same connection.
    Repeat,
}

/// A TCP peer's script: the steps played on every accepted connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub steps: Vec<Step>,
}

impl Script {
    pub fn new() -> Script {
        Script::default()
    }
    pub fn step(mut self, s: Step) -> Script {
        self.steps.push(s);
        self
    }
    pub fn expect(self, b: impl AsRef<[u8]>) -> Script {
        self.step(Step::Expect(b.as_ref().to_vec()))
    }
    pub fn read(self, n: usize) -> Script {
        self.step(Step::Read(n))
    }
    pub fn read_some(self) -> Script {
        self.step(Step::ReadSome)
    }
    pub fn read_line(self) -> Script {
        self.step(Step::ReadUntil(b"\n".to_vec()))
    }
    pub fn read_until(self, delim: impl AsRef<[u8]>) -> Script {
        self.step(Step::ReadUntil(delim.as_ref().to_vec()))
    }
    pub fn read_to_eof(self) -> Script {
        self.step(Step::ReadToEof)
    }
    pub fn send(self, b: impl AsRef<[u8]>) -> Script {
        self.step(Step::Send(b.as_ref().to_vec()))
    }
    pub fn send_bytewise(self, b: impl AsRef<[u8]>, delay: Duration) -> Script {
        self.step(Step::SendBytewise(b.as_ref().to_vec(), delay))
    }
    pub fn sleep(self, d: Duration) -> Script {
        self.step(Step::Sleep(d))
    }
    pub fn shutdown_write(self) -> Script {
        self.step(Step::ShutdownWrite)
    }
    pub fn reset(self) -> Script {
        self.step(Step::Reset)
    }
    pub fn close(self) -> Script {
        self.step(Step::Close)
    }
    pub fn hold(self) -> Script {
        self.step(Step::Hold)
    }
    pub fn echo(self) -> Script {
        self.step(Step::Echo)
    }
    pub fn echo_lines(self) -> Script {
        self.step(Step::EchoLines)
    }
    pub fn repeat(self) -> Script {
        self.step(Step::Repeat)
    }

    /// Parse the text form (see the module docs): one step a line, `#`
    /// starts a comment outside strings, blank lines are ignored.
    pub fn parse(text: &str) -> Result<Script, String> {
        let mut steps = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = strip_comment(raw).trim();
            if line.is_empty() {
                continue;
            }
            let err = |m: String| format!("script line {}: {m}: {raw:?}", i + 1);
            let (word, rest) = match line.find(char::is_whitespace) {
                Some(p) => (&line[..p], line[p..].trim()),
                None => (line, ""),
            };
            let one_string = |rest: &str| -> Result<Vec<u8>, String> {
                let v = perl_strings(rest).map_err(&err)?;
                if v.len() != 1 {
                    return Err(err("expected one string".into()));
                }
                Ok(v.into_iter().next().unwrap())
            };
            let no_arg = |s: Step| -> Result<Step, String> {
                if rest.is_empty() {
                    Ok(s)
                } else {
                    Err(err(format!("{word} takes no argument")))
                }
            };
            let step = match word {
                "expect" => Step::Expect(one_string(rest)?),
                "read" => Step::Read(rest.parse().map_err(|_| err("bad byte count".into()))?),
                "read_some" => no_arg(Step::ReadSome)?,
                "read_line" => no_arg(Step::ReadUntil(b"\n".to_vec()))?,
                "read_until" => Step::ReadUntil(one_string(rest)?),
                "read_to_eof" => no_arg(Step::ReadToEof)?,
                "send" => Step::Send(one_string(rest)?),
                "send_bytewise" => {
                    let (d, s) = match rest.find(char::is_whitespace) {
                        Some(p) => (&rest[..p], rest[p..].trim()),
                        None => return Err(err("send_bytewise DELAY STRING".into())),
                    };
                    Step::SendBytewise(one_string(s)?, parse_duration(d).map_err(&err)?)
                }
                "sleep" => Step::Sleep(parse_duration(rest).map_err(&err)?),
                "shutdown_write" => no_arg(Step::ShutdownWrite)?,
                "shutdown_read" => no_arg(Step::ShutdownRead)?,
                "reset" => no_arg(Step::Reset)?,
                "close" => no_arg(Step::Close)?,
                "hold" => no_arg(Step::Hold)?,
                "echo" => no_arg(Step::Echo)?,
                "echo_lines" => no_arg(Step::EchoLines)?,
                "repeat" => no_arg(Step::Repeat)?,
                other => return Err(err(format!("unknown step {other:?}"))),
            };
            steps.push(step);
        }
        Ok(Script { steps })
    }
}

fn strip_comment(line: &str) -> &str {
    let mut in_str = false;
    let mut esc = false;
    for (i, c) in line.char_indices() {
        if in_str {
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if c == '#' {
            return &line[..i];
        }
    }
    line
}

/// `100ms`, `0.5s`, `2` (seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("bad duration {s:?}"))?;
    Ok(Duration::from_secs_f64(v * scale))
}

/// Evaluate the small subset of Perl that Test::Nginx blocks use for
/// `--- tcp_reply eval` and friends: a string expression, or an array
/// `[expr, expr, ...]` of them. An expression is double-quoted (escapes
/// `\r \n \t \0 \a \e \\ \" \$ \@ \xHH \x{H..}`) or single-quoted strings
/// joined with `.`, each optionally repeated with `x N`.
pub fn perl_strings(src: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut p = PerlParser {
        s: src.as_bytes(),
        i: 0,
    };
    p.ws();
    let out = if p.peek() == Some(b'[') {
        p.i += 1;
        let mut v = Vec::new();
        loop {
            p.ws();
            if p.peek() == Some(b']') {
                p.i += 1;
                break;
            }
            v.push(p.expr()?);
            p.ws();
            match p.peek() {
                Some(b',') => p.i += 1,
                Some(b']') => {
                    p.i += 1;
                    break;
                }
                _ => return Err(p.err("expected `,` or `]`")),
            }
        }
        v
    } else {
        vec![p.expr()?]
    };
    p.ws();
    if p.peek() == Some(b';') {
        p.i += 1;
        p.ws();
    }
    if p.i != p.s.len() {
        return Err(p.err("unexpected text"));
    }
    Ok(out)
}

struct PerlParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl PerlParser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn err(&self, m: &str) -> String {
        let rest = String::from_utf8_lossy(&self.s[self.i.min(self.s.len())..]);
        let rest: String = rest.chars().take(30).collect();
        format!("{m} at {rest:?}")
    }
    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_ascii_whitespace() {
                self.i += 1;
            } else if c == b'#' {
                while let Some(c) = self.peek() {
                    if c == b'\n' {
                        break;
                    }
                    self.i += 1;
                }
            } else {
                break;
            }
        }
    }
    fn expr(&mut self) -> Result<Vec<u8>, String> {
        let mut out = self.term()?;
        loop {
            self.ws();
            if self.peek() == Some(b'.') {
                self.i += 1;
                self.ws();
                out.extend(self.term()?);
            } else {
                return Ok(out);
            }
        }
    }
    fn term(&mut self) -> Result<Vec<u8>, String> {
        let base = match self.peek() {
            Some(b'"') => self.dq()?,
            Some(b'\'') => self.sq()?,
            Some(b'(') => {
                self.i += 1;
                self.ws();
                let v = self.expr()?;
                self.ws();
                if self.peek() != Some(b')') {
                    return Err(self.err("expected `)`"));
                }
                self.i += 1;
                v
            }
            _ => return Err(self.err("expected a string")),
        };
        let save = self.i;
        self.ws();
        if self.peek() == Some(b'x') {
            self.i += 1;
            self.ws();
            let start = self.i;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.i += 1;
            }
            if start == self.i {
                return Err(self.err("expected a count after `x`"));
            }
            let n: usize = std::str::from_utf8(&self.s[start..self.i])
                .unwrap()
                .parse()
                .map_err(|_| self.err("bad count"))?;
            return Ok(base.repeat(n));
        }
        self.i = save;
        Ok(base)
    }
    fn sq(&mut self) -> Result<Vec<u8>, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated '...' string")),
                Some(b'\'') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') if matches!(self.s.get(self.i + 1), Some(b'\'') | Some(b'\\')) => {
                    out.push(self.s[self.i + 1]);
                    self.i += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }
    fn dq(&mut self) -> Result<Vec<u8>, String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.err("unterminated \"...\" string"));
            };
            self.i += 1;
            match c {
                b'"' => return Ok(out),
                b'\\' => {
                    let Some(e) = self.peek() else {
                        return Err(self.err("unterminated escape"));
                    };
                    self.i += 1;
                    match e {
                        b'r' => out.push(b'\r'),
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'0' => out.push(0),
                        b'a' => out.push(7),
                        b'e' => out.push(27),
                        b'x' => {
                            let (hex, braced) = if self.peek() == Some(b'{') {
                                let start = self.i + 1;
                                let end = self.s[start..]
                                    .iter()
                                    .position(|&c| c == b'}')
                                    .map(|p| start + p)
                                    .ok_or_else(|| self.err("unterminated \\x{"))?;
                                (&self.s[start..end], end + 1)
                            } else {
                                let start = self.i;
                                let mut end = start;
                                while end < self.s.len()
                                    && end < start + 2
                                    && self.s[end].is_ascii_hexdigit()
                                {
                                    end += 1;
                                }
                                (&self.s[start..end], end)
                            };
                            let v = if hex.is_empty() {
                                0
                            } else {
                                u32::from_str_radix(std::str::from_utf8(hex).unwrap(), 16)
                                    .map_err(|_| self.err("bad \\x escape"))?
                            };
                            self.i = braced;
                            if v < 256 {
                                out.push(v as u8);
                            } else {
                                let ch = char::from_u32(v).ok_or_else(|| self.err("bad \\x{}"))?;
                                let mut buf = [0u8; 4];
                                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
                            }
                        }
                        other => out.push(other),
                    }
                }
                b'$' | b'@' => {
                    // Interpolation is not supported: a sigil followed by a
                    // name is most likely a forgotten backslash.
                    if self
                        .peek()
                        .is_some_and(|n| n.is_ascii_alphabetic() || n == b'_' || n == b'{')
                    {
                        return Err(
                            self.err("variable interpolation is not supported (escape the sigil)")
                        );
                    }
                    out.push(c);
                }
                other => out.push(other),
            }
        }
    }
}

// ---------------------------------------------------------------------------
// TCP peer
// ---------------------------------------------------------------------------

/// What one accepted connection did.
#[derive(Debug, Clone, Default)]
pub struct ConnRecord {
    /// Every byte read from the client, in order.
    pub received: Vec<u8>,
    /// The script ran to its end (or the connection was handed to `hold`/`echo`).
    pub done: bool,
    /// When the connection was accepted, relative to the peer's start.
    pub accepted_at: Duration,
    /// The client closed (or reset) the connection while the peer was reading.
    pub client_closed: bool,
}

#[derive(Default)]
struct PeerState {
    conns: Vec<ConnRecord>,
    errors: Vec<String>,
}

struct Shared {
    state: Mutex<PeerState>,
    cond: Condvar,
    stop: AtomicBool,
    started: Instant,
}

impl Shared {
    fn update(&self, f: impl FnOnce(&mut PeerState)) {
        let mut st = self.state.lock().unwrap();
        f(&mut st);
        self.cond.notify_all();
    }
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Where a [`MockPeer`] listens.
#[derive(Debug, Clone)]
pub enum PeerAddr {
    Tcp(SocketAddr),
    Unix(std::path::PathBuf),
}

enum Listener {
    Tcp(TcpListener),
    Unix(UnixListener),
}

/// An accepted connection, TCP or unix-domain.
enum Stream {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Stream {
    fn setup(&self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => {
                s.set_nonblocking(false)?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(POLL))?;
                s.set_write_timeout(Some(STEP_TIMEOUT))
            }
            Stream::Unix(s) => {
                s.set_nonblocking(false)?;
                s.set_read_timeout(Some(POLL))?;
                s.set_write_timeout(Some(STEP_TIMEOUT))
            }
        }
    }
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.shutdown(how),
            Stream::Unix(s) => s.shutdown(how),
        }
    }
    /// `SO_LINGER` 0, so that closing sends a reset (TCP only).
    fn set_linger_zero(&self) {
        if let Stream::Tcp(s) = self {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Unix(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write(buf),
            Stream::Unix(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.flush(),
            Stream::Unix(s) => s.flush(),
        }
    }
}

/// A TCP (or unix-domain stream) peer that plays its [`Script`] on every
/// connection it accepts (each in its own thread). Stopped when dropped.
pub struct MockPeer {
    addr: PeerAddr,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl MockPeer {
    /// Listen on `127.0.0.1:0`.
    pub fn start(script: Script) -> MockPeer {
        Self::bind("127.0.0.1:0", script).expect("mock peer: bind 127.0.0.1:0")
    }

    /// Listen on `addr` (e.g. a fixed port from a Test::Nginx block).
    pub fn bind(addr: impl ToSocketAddrs, script: Script) -> io::Result<MockPeer> {
        let listener = TcpListener::bind(addr)?;
        let addr = PeerAddr::Tcp(listener.local_addr()?);
        Self::serve(Listener::Tcp(listener), addr, script)
    }

    /// Listen on a unix-domain stream socket at `path` (replaced if it
    /// exists); for `sock:connect("unix:" .. path)`.
    pub fn bind_unix(path: impl AsRef<std::path::Path>, script: Script) -> io::Result<MockPeer> {
        let path = path.as_ref();
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)?;
        Self::serve(
            Listener::Unix(listener),
            PeerAddr::Unix(path.to_path_buf()),
            script,
        )
    }

    fn serve(listener: Listener, addr: PeerAddr, script: Script) -> io::Result<MockPeer> {
        let shared = Arc::new(Shared {
            state: Mutex::new(PeerState::default()),
            cond: Condvar::new(),
            stop: AtomicBool::new(false),
            started: Instant::now(),
        });
        let sh = shared.clone();
        let accept_thread = thread::Builder::new()
            .name("mock-peer-accept".into())
            .spawn(move || accept_loop(listener, script, sh))?;
        Ok(MockPeer {
            addr,
            shared,
            accept_thread: Some(accept_thread),
        })
    }

    /// The TCP port (0 for a unix-domain peer).
    pub fn port(&self) -> u16 {
        match &self.addr {
            PeerAddr::Tcp(a) => a.port(),
            PeerAddr::Unix(_) => 0,
        }
    }

    pub fn addr(&self) -> &PeerAddr {
        &self.addr
    }

    /// How many connections were accepted so far.
    pub fn accepted(&self) -> usize {
        self.shared.state.lock().unwrap().conns.len()
    }

    /// What connection `i` (in accept order) received so far.
    pub fn received(&self, i: usize) -> Option<Vec<u8>> {
        self.shared
            .state
            .lock()
            .unwrap()
            .conns
            .get(i)
            .map(|c| c.received.clone())
    }

    /// A snapshot of every connection's record.
    pub fn connections(&self) -> Vec<ConnRecord> {
        self.shared.state.lock().unwrap().conns.clone()
    }

    /// Problems seen so far: `expect` mismatches, I/O errors while sending.
    pub fn errors(&self) -> Vec<String> {
        self.shared.state.lock().unwrap().errors.clone()
    }

    /// Wait until `pred` holds for the state or `timeout` passes; returns
    /// whether it held.
    fn wait_until(&self, timeout: Duration, pred: impl Fn(&PeerState) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.shared.state.lock().unwrap();
        loop {
            if pred(&st) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = self.shared.cond.wait_timeout(st, deadline - now).unwrap().0;
        }
    }

    /// Wait until at least `n` connections were accepted.
    pub fn wait_accepted(&self, n: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |st| st.conns.len() >= n)
    }

    /// Wait until connection `i` received at least `len` bytes (or its
    /// script finished); returns what it received.
    pub fn wait_received(&self, i: usize, len: usize, timeout: Duration) -> Option<Vec<u8>> {
        self.wait_until(timeout, |st| {
            st.conns
                .get(i)
                .is_some_and(|c| c.received.len() >= len || c.done || c.client_closed)
        });
        self.received(i)
    }

    /// Wait until at least one connection was accepted and every
    /// connection accepted so far finished its script; returns the indexes
    /// of those that did not (`[0]` when none was accepted).
    pub fn wait_all_done(&self, timeout: Duration) -> Vec<usize> {
        self.wait_until(timeout, |st| {
            !st.conns.is_empty() && st.conns.iter().all(|c| c.done)
        });
        let st = self.shared.state.lock().unwrap();
        if st.conns.is_empty() {
            return vec![0];
        }
        st.conns
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.done)
            .map(|(i, _)| i)
            .collect()
    }

    /// Wait until connection `i` finished its script.
    pub fn wait_done(&self, i: usize, timeout: Duration) -> bool {
        self.wait_until(timeout, |st| st.conns.get(i).is_some_and(|c| c.done))
    }

    /// Stop accepting and close every connection.
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
            if let PeerAddr::Unix(p) = &self.addr {
                let _ = std::fs::remove_file(p);
            }
        }
    }
}

impl Drop for MockPeer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(listener: Listener, script: Script, sh: Arc<Shared>) {
    let mut handlers = Vec::new();
    loop {
        if sh.stopping() {
            break;
        }
        // wait for a connection, waking up now and then to see whether
        // the peer is stopping
        let fd = match &listener {
            Listener::Tcp(l) => l.as_raw_fd(),
            Listener::Unix(l) => l.as_raw_fd(),
        };
        let mut pfd = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: poll(2) on one valid pollfd that lives across the call.
        let n = unsafe { libc::poll(&mut pfd, 1, POLL.as_millis() as libc::c_int) };
        if n <= 0 {
            continue;
        }
        let accepted = match &listener {
            Listener::Tcp(l) => l.accept().map(|(s, _)| Stream::Tcp(s)),
            Listener::Unix(l) => l.accept().map(|(s, _)| Stream::Unix(s)),
        };
        if sh.stopping() {
            break;
        }
        match accepted {
            Ok(stream) => {
                let idx = {
                    let mut st = sh.state.lock().unwrap();
                    st.conns.push(ConnRecord {
                        accepted_at: sh.started.elapsed(),
                        ..Default::default()
                    });
                    sh.cond.notify_all();
                    st.conns.len() - 1
                };
                let (script, sh2) = (script.clone(), sh.clone());
                handlers.push(thread::spawn(move || {
                    let mut conn = Conn {
                        stream,
                        idx,
                        sh: sh2.clone(),
                        closed: false,
                    };
                    let _ = conn.stream.setup();
                    if let Err(e) = conn.run(&script) {
                        if !sh2.stopping() {
                            sh2.update(|st| st.errors.push(format!("connection {idx}: {e}")));
                        }
                    }
                    sh2.update(|st| st.conns[idx].done = true);
                }));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                sh.update(|st| st.errors.push(format!("accept: {e}")));
                thread::sleep(Duration::from_millis(20));
            }
        }
    }
    drop(listener);
    for h in handlers {
        let _ = h.join();
    }
}

struct Conn {
    stream: Stream,
    idx: usize,
    sh: Arc<Shared>,
    closed: bool,
}

enum ReadOutcome {
    Data(usize),
    Eof,
}

impl Conn {
    fn record(&self, data: &[u8]) {
        let idx = self.idx;
        self.sh
            .update(|st| st.conns[idx].received.extend_from_slice(data));
    }

    /// One read into `buf`, waiting up to `timeout` (polling the stop flag).
    fn read_once(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<ReadOutcome> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.sh.stopping() {
                return Err(io::Error::other("peer stopped"));
            }
            match self.stream.read(buf) {
                Ok(0) => {
                    let idx = self.idx;
                    self.sh.update(|st| st.conns[idx].client_closed = true);
                    return Ok(ReadOutcome::Eof);
                }
                Ok(n) => {
                    self.record(&buf[..n]);
                    return Ok(ReadOutcome::Data(n));
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if Instant::now() >= deadline {
                        return Err(io::Error::new(io::ErrorKind::TimedOut, "read timed out"));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    let idx = self.idx;
                    self.sh.update(|st| st.conns[idx].client_closed = true);
                    return Ok(ReadOutcome::Eof);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Read exactly `n` bytes (fewer at EOF).
    fn read_n(&mut self, n: usize) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let mut buf = vec![0u8; (n - out.len()).min(65536)];
            match self.read_once(&mut buf, STEP_TIMEOUT)? {
                ReadOutcome::Data(k) => out.extend_from_slice(&buf[..k]),
                ReadOutcome::Eof => break,
            }
        }
        Ok(out)
    }

    /// Read byte by byte up to and including `delim` (or EOF); returns the data.
    fn read_until(&mut self, delim: &[u8]) -> io::Result<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        loop {
            let mut b = [0u8; 1];
            match self.read_once(&mut b, STEP_TIMEOUT)? {
                ReadOutcome::Data(_) => {
                    out.push(b[0]);
                    if !delim.is_empty() && out.ends_with(delim) {
                        return Ok((out, true));
                    }
                }
                ReadOutcome::Eof => return Ok((out, false)),
            }
        }
    }

    /// Read until EOF, without a step timeout (stops with the peer).
    fn drain(&mut self, echo: bool) -> io::Result<()> {
        let mut buf = vec![0u8; 65536];
        loop {
            match self.read_once(&mut buf, Duration::from_secs(365 * 86400)) {
                Ok(ReadOutcome::Data(n)) => {
                    if echo {
                        self.stream.write_all(&buf[..n])?;
                    }
                }
                Ok(ReadOutcome::Eof) => return Ok(()),
                Err(e) if self.sh.stopping() => {
                    let _ = e;
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn run(&mut self, script: &Script) -> io::Result<()> {
        'again: loop {
            for step in &script.steps {
                if self.closed {
                    return Ok(());
                }
                match step {
                    Step::Expect(want) => {
                        let got = self.read_n(want.len())?;
                        if &got != want {
                            let idx = self.idx;
                            let msg = format!(
                                "connection {idx}: expected {:?}, received {:?}",
                                String::from_utf8_lossy(want),
                                String::from_utf8_lossy(&got)
                            );
                            self.sh.update(|st| st.errors.push(msg));
                            return Ok(());
                        }
                    }
                    Step::Read(n) => {
                        let got = self.read_n(*n)?;
                        if got.len() < *n {
                            return Ok(()); // the client closed
                        }
                    }
                    Step::ReadSome => {
                        let mut buf = vec![0u8; 4096];
                        if let ReadOutcome::Eof = self.read_once(&mut buf, STEP_TIMEOUT)? {
                            return Ok(());
                        }
                    }
                    Step::ReadUntil(d) => {
                        if !self.read_until(d)?.1 {
                            return Ok(());
                        }
                    }
                    Step::ReadToEof => self.drain(false)?,
                    Step::Send(b) => self.stream.write_all(b)?,
                    Step::SendBytewise(b, delay) => {
                        for byte in b {
                            thread::sleep(*delay);
                            self.stream.write_all(std::slice::from_ref(byte))?;
                            self.stream.flush()?;
                        }
                    }
                    Step::Sleep(d) => {
                        let deadline = Instant::now() + *d;
                        while Instant::now() < deadline && !self.sh.stopping() {
                            thread::sleep((deadline - Instant::now()).min(POLL));
                        }
                    }
                    Step::ShutdownWrite => self.stream.shutdown(Shutdown::Write)?,
                    Step::ShutdownRead => self.stream.shutdown(Shutdown::Read)?,
                    Step::Reset => {
                        self.stream.set_linger_zero();
                        self.closed = true;
                        return Ok(()); // dropping the stream closes it (RST)
                    }
                    Step::Close => {
                        self.closed = true;
                        return Ok(());
                    }
                    Step::Hold => {
                        let idx = self.idx;
                        self.sh.update(|st| st.conns[idx].done = true);
                        return self.drain(false);
                    }
                    Step::Echo => return self.drain(true),
                    Step::EchoLines => loop {
                        let (line, complete) = self.read_until(b"\n")?;
                        if !line.is_empty() {
                            self.stream.write_all(&line)?;
                        }
                        if !complete {
                            return Ok(());
                        }
                    },
                    Step::Repeat => continue 'again,
                }
            }
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------------------
// UDP peer
// ---------------------------------------------------------------------------

/// How a [`UdpPeer`] answers each datagram.
#[derive(Debug, Clone)]
pub enum UdpReply {
    /// Send these datagrams back (after `delay`).
    Fixed {
        datagrams: Vec<Vec<u8>>,
        delay: Duration,
    },
    /// Send the datagram back unchanged.
    Echo,
    /// Answer nothing.
    Silent,
}

/// A UDP peer on `127.0.0.1:0` that records every datagram and answers
/// each one as told. Stopped when dropped.
pub struct UdpPeer {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    cond: Arc<Condvar>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl UdpPeer {
    pub fn start(reply: UdpReply) -> UdpPeer {
        Self::bind("127.0.0.1:0", reply).expect("udp peer: bind 127.0.0.1:0")
    }

    pub fn bind(addr: impl ToSocketAddrs, reply: UdpReply) -> io::Result<UdpPeer> {
        Self::bind_with(addr, move |d| match &reply {
            UdpReply::Fixed { datagrams, delay } => {
                if !delay.is_zero() {
                    thread::sleep(*delay);
                }
                datagrams.clone()
            }
            UdpReply::Echo => vec![d.to_vec()],
            UdpReply::Silent => Vec::new(),
        })
    }

    /// A peer whose answers are computed from each datagram.
    pub fn bind_with(
        addr: impl ToSocketAddrs,
        answer: impl Fn(&[u8]) -> Vec<Vec<u8>> + Send + 'static,
    ) -> io::Result<UdpPeer> {
        let sock = UdpSocket::bind(addr)?;
        sock.set_read_timeout(Some(POLL))?;
        let addr = sock.local_addr()?;
        let received = Arc::new(Mutex::new(Vec::new()));
        let cond = Arc::new(Condvar::new());
        let stop = Arc::new(AtomicBool::new(false));
        let (rx, cv, st) = (received.clone(), cond.clone(), stop.clone());
        let thread = thread::Builder::new()
            .name("mock-udp-peer".into())
            .spawn(move || {
                let mut buf = vec![0u8; 65536];
                while !st.load(Ordering::Relaxed) {
                    match sock.recv_from(&mut buf) {
                        Ok((n, from)) => {
                            let d = buf[..n].to_vec();
                            rx.lock().unwrap().push(d.clone());
                            cv.notify_all();
                            for r in answer(&d) {
                                let _ = sock.send_to(&r, from);
                            }
                        }
                        Err(_) => continue,
                    }
                }
            })?;
        Ok(UdpPeer {
            addr,
            received,
            cond,
            stop,
            thread: Some(thread),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every datagram received so far.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.received.lock().unwrap().clone()
    }

    /// Wait until at least `n` datagrams arrived; returns them all.
    pub fn wait_received(&self, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut g = self.received.lock().unwrap();
        while g.len() < n {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            g = self.cond.wait_timeout(g, deadline - now).unwrap().0;
        }
        g.clone()
    }
}

impl Drop for UdpPeer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------------
// DNS server
// ---------------------------------------------------------------------------

/// A minimal authoritative DNS server over UDP for the `resolver`
/// directive and `ngx.socket.udp` tests: answers `A` queries from a fixed
/// table (TTL 60), `NXDOMAIN` for unknown names, and an empty `NOERROR`
/// answer for other types (`AAAA` ...) of known names.
pub struct DnsPeer {
    peer: UdpPeer,
}

impl DnsPeer {
    /// `records`: `(name, address)`, several entries per name allowed.
    pub fn start(records: &[(&str, Ipv4Addr)]) -> DnsPeer {
        let mut table: HashMap<String, Vec<Ipv4Addr>> = HashMap::new();
        for (n, a) in records {
            table
                .entry(n.trim_end_matches('.').to_ascii_lowercase())
                .or_default()
                .push(*a);
        }
        let peer = UdpPeer::bind_with("127.0.0.1:0", move |q| {
            dns_answer(q, &table).into_iter().collect()
        })
        .expect("dns peer: bind 127.0.0.1:0");
        DnsPeer { peer }
    }

    /// Parse `name A 1.2.3.4` lines (`#` comments, blank lines ignored).
    pub fn parse_records(text: &str) -> Result<Vec<(String, Ipv4Addr)>, String> {
        let mut out = Vec::new();
        for l in text.lines() {
            let l = l.split('#').next().unwrap_or("").trim();
            if l.is_empty() {
                continue;
            }
            let f: Vec<&str> = l.split_whitespace().collect();
            match f.as_slice() {
                [name, "A", addr] | [name, addr] => {
                    let a = addr.parse().map_err(|_| format!("bad address in {l:?}"))?;
                    out.push((name.to_string(), a));
                }
                _ => return Err(format!("bad DNS record line {l:?} (want `name A 1.2.3.4`)")),
            }
        }
        Ok(out)
    }

    pub fn port(&self) -> u16 {
        self.peer.port()
    }

    /// The raw queries received so far.
    pub fn queries(&self) -> Vec<Vec<u8>> {
        self.peer.received()
    }
}

fn dns_answer(q: &[u8], table: &HashMap<String, Vec<Ipv4Addr>>) -> Option<Vec<u8>> {
    if q.len() < 12 {
        return None;
    }
    let qdcount = u16::from_be_bytes([q[4], q[5]]);
    if qdcount != 1 {
        return None;
    }
    // the question: labels, type, class
    let mut i = 12;
    let mut labels = Vec::new();
    loop {
        let len = *q.get(i)? as usize;
        i += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(q.get(i..i + len)?).to_ascii_lowercase());
        i += len;
    }
    let qtype = u16::from_be_bytes([*q.get(i)?, *q.get(i + 1)?]);
    let question_end = i + 4;
    if q.len() < question_end {
        return None;
    }
    let name = labels.join(".");
    let addrs = table.get(&name);
    let rd = q[2] & 0x01;
    let mut out = Vec::new();
    out.extend_from_slice(&q[0..2]); // id
    out.push(0x84 | rd); // QR, AA, RD copied
    out.push(if addrs.is_some() { 0x00 } else { 0x03 }); // RCODE: NOERROR / NXDOMAIN
    let answers: &[Ipv4Addr] = match (addrs, qtype) {
        (Some(a), 1) => a,
        _ => &[],
    };
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&0u16.to_be_bytes());
    out.extend_from_slice(&q[12..question_end]);
    for a in answers {
        out.extend_from_slice(&[0xc0, 0x0c]); // pointer to the question's name
        out.extend_from_slice(&1u16.to_be_bytes()); // A
        out.extend_from_slice(&1u16.to_be_bytes()); // IN
        out.extend_from_slice(&60u32.to_be_bytes()); // TTL
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&a.octets());
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// A port where connecting times out
// ---------------------------------------------------------------------------

/// A listening socket on `127.0.0.1:0` whose accept queue is full and never
/// drained: the kernel drops further SYNs, so connecting to it neither
/// succeeds nor fails until the client's connect timeout (for "connect
/// timed out" tests, with no network needed).
pub struct Blackhole {
    port: u16,
    _listener: socket2::Socket,
    _fillers: Vec<socket2::Socket>,
}

impl Blackhole {
    pub fn start() -> io::Result<Blackhole> {
        use socket2::{Domain, Socket, Type};
        let listener = Socket::new(Domain::IPV4, Type::STREAM, None)?;
        listener.bind(&SocketAddr::from(([127, 0, 0, 1], 0)).into())?;
        listener.listen(0)?;
        let addr = listener
            .local_addr()?
            .as_socket()
            .ok_or_else(|| io::Error::other("no local address"))?;
        // backlog 0 still queues one connection; fill the queue for good
        let mut fillers = Vec::new();
        for _ in 0..3 {
            let s = Socket::new(Domain::IPV4, Type::STREAM, None)?;
            s.set_nonblocking(true)?;
            let _ = s.connect(&addr.into());
            fillers.push(s);
        }
        thread::sleep(Duration::from_millis(20));
        Ok(Blackhole {
            port: addr.port(),
            _listener: listener,
            _fillers: fillers,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

// ---------------------------------------------------------------------------
// Small helpers for tests that talk to local services
// ---------------------------------------------------------------------------

/// Whether something accepts TCP connections on `127.0.0.1:port`.
pub fn tcp_port_open(port: u16) -> bool {
    TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(300),
    )
    .is_ok()
}

/// A free TCP port on 127.0.0.1 (bound and released: racy, but fine for
/// tests that start a helper process on it right away).
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// A free UDP port on 127.0.0.1 (same caveat as [`free_port`]).
pub fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind udp 127.0.0.1:0");
    s.local_addr().unwrap().port()
}

/// Send one command line to a line-protocol server (Redis inline commands,
/// memcached) and return what it answered within `wait`.
pub fn line_command(port: u16, cmd: &str, wait: Duration) -> io::Result<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_millis(50)))?;
    s.write_all(cmd.as_bytes())?;
    let deadline = Instant::now() + wait;
    let mut out = Vec::new();
    let mut buf = [0u8; 65536];
    while Instant::now() < deadline {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                if !out.is_empty() {
                    break;
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
