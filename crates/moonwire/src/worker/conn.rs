//! One client connection: read request heads (pipelined or kept alive),
//! hand each to the request module, write the response.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use tokio::net::TcpStream;

use super::{Active, Worker};
use crate::config::Server;
use crate::http::{self, read_more};
use crate::log::Level;
use crate::request::{self, ConnInfo};

/// What the accept loop knows about a new connection.
pub struct Accepted {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    pub number: u64,
}

pub async fn serve(
    w: Rc<Worker>,
    a: Accepted,
    servers: Arc<Vec<Arc<Server>>>,
    idle: Rc<std::cell::Cell<bool>>,
    _active: Active,
) {
    let _ = a.stream.set_nodelay(true);
    let (peer, local) = (a.peer, a.local);
    let info = Rc::new(ConnInfo {
        number: a.number,
        peer,
        local,
        stream: Rc::new(a.stream),
        requests: std::cell::Cell::new(0),
    });
    let candidates: Vec<Arc<Server>> = servers
        .iter()
        .filter(|s| request::listens_on(s, local))
        .cloned()
        .collect();
    let candidates = if candidates.is_empty() {
        servers.to_vec()
    } else {
        candidates
    };
    let Some(default) = candidates
        .iter()
        .find(|s| s.listens.iter().any(|l| l.default_server))
        .or(candidates.first())
        .cloned()
    else {
        return;
    };
    let mut buf = BytesMut::with_capacity(4096);
    // one timer per connection, re-armed for every wait
    let timer = tokio::time::sleep(Duration::from_secs(0));
    tokio::pin!(timer);
    loop {
        let first = info.requests.get() == 0;
        let wait = if first {
            Duration::from_millis(default.client_header_timeout_ms)
        } else {
            Duration::from_millis(default.conf.keepalive_timeout_ms)
        };
        let head = loop {
            match http::parse_head(&mut buf) {
                Ok(Some(h)) => break h,
                Ok(None) => {}
                Err(e) => {
                    request::log_conn(
                        &info,
                        &default,
                        Level::Info,
                        &if bad_msg(&e).contains(" while ") {
                            bad_msg(&e).to_string()
                        } else {
                            format!("{} while reading client request headers", bad_msg(&e))
                        },
                    );
                    request::reject(&info, &default, e.status()).await;
                    return;
                }
            }
            let waiting = buf.is_empty();
            // only a kept-alive connection between requests is idle: a new one
            // is waiting for the request its client already sent
            let keepalive_idle = waiting && info.requests.get() > 0;
            if keepalive_idle && super::exiting() {
                return;
            }
            idle.set(keepalive_idle);
            timer.as_mut().reset(tokio::time::Instant::now() + wait);
            let read = tokio::select! {
                biased;
                r = read_more(&info.stream, &mut buf) => Some(r),
                _ = &mut timer => None,
            };
            idle.set(false);
            match read {
                Some(Ok(0)) | Some(Err(_)) => return,
                Some(Ok(_)) => {}
                None => {
                    if !waiting {
                        request::log_conn(&info, &default, Level::Info, "client timed out (110: Connection timed out) while reading client request headers");
                        request::reject(&info, &default, 408).await;
                    }
                    return;
                }
            }
        };
        info.requests.set(info.requests.get() + 1);
        let keep = request::handle(&w, &info, head, &mut buf, &candidates, &default).await;
        if !keep || super::exiting() {
            // a lingering close would drain unread input; a half-close is enough here
            let _ = shutdown_write(&info.stream);
            return;
        }
    }
}

fn bad_msg(e: &http::ParseError) -> &'static str {
    match e {
        http::ParseError::Bad(m) => m,
        http::ParseError::UriTooLong => "client sent too long URI",
        http::ParseError::Version => "client sent unsupported HTTP version",
        http::ParseError::NotImplemented => "client sent unknown \"Transfer-Encoding\"",
    }
}

fn shutdown_write(s: &TcpStream) -> std::io::Result<()> {
    let sock = socket2::SockRef::from(s);
    sock.shutdown(std::net::Shutdown::Write)
}
