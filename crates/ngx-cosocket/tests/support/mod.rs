//! Test peers. They run on plain std threads with blocking sockets so that
//! their timing is independent of the runtime under test.

#![allow(dead_code)] // each test binary uses a different part

pub mod tls;

use std::future::Future;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ngx_cosocket::Target;

/// Runs `f` the way a worker does: current-thread runtime plus LocalSet.
pub fn run<F: Future>(f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    tokio::task::LocalSet::new().block_on(&rt, f)
}

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// One step of a scripted peer.
#[derive(Debug, Clone)]
pub enum Act {
    Send(Vec<u8>),
    /// One byte per segment, with a pause between them.
    SendBytewise(Vec<u8>),
    /// Segments cut at the given lengths (cycled), with pauses.
    SendSplit(Vec<u8>, Vec<usize>),
    Sleep(Duration),
    /// Reads exactly n bytes (recorded).
    Read(usize),
    /// Reads until EOF (recorded).
    ReadToEnd,
    ShutdownWrite,
    /// Closes with an RST (SO_LINGER 0).
    Reset,
}

pub fn send(s: &str) -> Act {
    Act::Send(s.as_bytes().to_vec())
}

/// A peer that accepts one TCP connection and plays a script, then closes.
pub struct Peer {
    pub addr: SocketAddr,
    handle: JoinHandle<Vec<u8>>,
}

impl Peer {
    pub fn spawn(script: Vec<Act>) -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            play(stream, &script)
        });
        Peer { addr, handle }
    }

    pub fn target(&self) -> Target {
        Target::Inet(self.addr)
    }

    /// What the peer read, once its script is done.
    pub fn join(self) -> Vec<u8> {
        self.handle.join().unwrap()
    }
}

pub fn play(mut stream: TcpStream, script: &[Act]) -> Vec<u8> {
    stream.set_nodelay(true).unwrap();
    let mut got = Vec::new();
    let pause = || thread::sleep(Duration::from_micros(300));
    for act in script {
        match act {
            Act::Send(b) => {
                let _ = stream.write_all(b);
            }
            Act::SendBytewise(b) => {
                for byte in b {
                    let _ = stream.write_all(&[*byte]);
                    pause();
                }
            }
            Act::SendSplit(b, cuts) => {
                let mut rest = &b[..];
                for &cut in cuts.iter().cycle() {
                    if rest.is_empty() {
                        break;
                    }
                    let n = cut.clamp(1, rest.len());
                    let _ = stream.write_all(&rest[..n]);
                    rest = &rest[n..];
                    pause();
                }
            }
            Act::Sleep(d) => thread::sleep(*d),
            Act::Read(n) => {
                let mut buf = vec![0; *n];
                stream.read_exact(&mut buf).unwrap();
                got.extend_from_slice(&buf);
            }
            Act::ReadToEnd => {
                let _ = stream.read_to_end(&mut got);
            }
            Act::ShutdownWrite => stream.shutdown(Shutdown::Write).unwrap(),
            Act::Reset => {
                socket2::SockRef::from(&stream)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
                return got;
            }
        }
    }
    got
}

/// A line server for pool tests. Per connection, each line is a command:
/// * `id`: replies `conn N` (N counts accepted connections from 1);
/// * `close`: closes the connection;
/// * `close-later`: replies `ok`, closes 50 ms later;
/// * `poke-later`: replies `ok`, sends `boo` 50 ms later;
/// * `two`: replies `ok\nextra` in one write;
/// * anything else is echoed.
pub struct LineServer {
    pub addr: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
    /// Connections the server saw end (EOF from the client or `close`).
    pub ended: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl LineServer {
    pub fn start() -> LineServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let ended = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (acc, end, st) = (accepted.clone(), ended.clone(), stop.clone());
        thread::spawn(move || {
            while !st.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let n = acc.fetch_add(1, Ordering::SeqCst) + 1;
                        let end = end.clone();
                        thread::spawn(move || {
                            serve_lines(stream, n);
                            end.fetch_add(1, Ordering::SeqCst);
                        });
                    }
                    Err(_) => thread::sleep(Duration::from_millis(2)),
                }
            }
        });
        LineServer {
            addr,
            accepted,
            ended,
            stop,
        }
    }

    pub fn target(&self) -> Target {
        Target::Inet(self.addr)
    }

    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn ended(&self) -> usize {
        self.ended.load(Ordering::SeqCst)
    }
}

impl Drop for LineServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn serve_lines(stream: TcpStream, n: usize) {
    stream.set_nonblocking(false).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut out = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let cmd = line.trim_end();
        let reply = match cmd {
            "id" => format!("conn {n}\n"),
            "close" => return,
            "close-later" | "poke-later" => {
                let _ = out.write_all(b"ok\n");
                thread::sleep(Duration::from_millis(50));
                if cmd == "close-later" {
                    return;
                }
                "boo\n".to_owned()
            }
            "two" => "ok\nextra\n".to_owned(),
            other => format!("{other}\n"),
        };
        if out.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// Deterministic pseudo-random cut lengths in 1..=max.
pub fn cuts(seed: u64, count: usize, max: usize) -> Vec<usize> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407)
        | 1;
    (0..count)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x as usize % max) + 1
        })
        .collect()
}
