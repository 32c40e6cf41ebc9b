//! Request bodies end to end: bodies nobody reads are discarded so the
//! next request on the connection is parsed where it starts, `Expect:
//! 100-continue`, large bodies through a temp file and the request socket,
//! 413 with the body still arriving, and the reason phrase of
//! `ngx.resp.set_status`.

mod support;

use std::io::Read;
use std::time::Duration;

use support::{conf, Client, TestServer};

const LOCATIONS: &str = r#"
location = /ignore {
    content_by_lua_block { ngx.say("ignored") }
}
location = /echo {
    content_by_lua_block {
        ngx.req.read_body()
        ngx.say("body: [", ngx.req.get_body_data(), "]")
    }
}
location = /return {
    return 200 "returned\n";
}
location = /discard {
    content_by_lua_block {
        ngx.req.discard_body()
        ngx.say("discarded")
    }
}
location = /big {
    client_body_buffer_size 8k;
    content_by_lua_block {
        ngx.req.read_body()
        local name = ngx.req.get_body_file()
        local f = assert(io.open(name))
        local data = f:read("*a")
        f:close()
        ngx.say(#data, " ", ngx.md5(data), " ", ngx.req.get_body_data())
    }
}
location = /stream {
    content_by_lua_block {
        local sock = assert(ngx.req.socket())
        local parts, n = {}, 0
        while true do
            local data, err, partial = sock:receive(8192)
            if not data then
                if err ~= "closed" then
                    ngx.say("error: ", err)
                    return
                end
                parts[#parts + 1] = partial
                break
            end
            parts[#parts + 1] = data
            n = n + 1
        end
        local all = table.concat(parts)
        ngx.say(#all, " ", ngx.md5(all), " ", n > 1)
    }
}
location = /small {
    client_max_body_size 1k;
    content_by_lua_block { ngx.say("never") }
}
location = /reason {
    content_by_lua_block {
        require("ngx.resp").set_status(299, "Fine Indeed")
        ngx.say("ok")
    }
}
"#;

fn start() -> TestServer {
    TestServer::start(&conf("", "", LOCATIONS))
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn unread_bodies_keep_the_connection_in_step() {
    let s = start();
    let mut c = s.client();
    // pipelined: every body the handler ignores must be skipped exactly
    let mut wire = String::new();
    wire.push_str(&post("/ignore", "GET /trap HTTP/1.1\r\n\r\n"));
    wire.push_str(&post("/return", "abc"));
    wire.push_str(&post("/discard", "12345"));
    wire.push_str(
        "POST /ignore HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n\
         3\r\nabc\r\n0\r\n\r\n",
    );
    wire.push_str(&post("/echo", "last"));
    c.send(wire.as_bytes()).unwrap();
    let want = [
        "ignored\n",
        "returned\n",
        "discarded\n",
        "ignored\n",
        "body: [last]\n",
    ];
    for w in want {
        let r = c.read_response(false).unwrap();
        assert_eq!(r.status, 200, "{}", s.error_log());
        assert_eq!(r.text(), w);
        assert_eq!(r.header("connection"), Some("keep-alive"));
    }
}

#[test]
fn a_body_sent_after_the_response_is_still_discarded() {
    let s = start();
    let mut c = s.client();
    c.send(b"POST /ignore HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\n")
        .unwrap();
    let r = c.read_response(false).unwrap();
    assert_eq!(r.text(), "ignored\n");
    std::thread::sleep(Duration::from_millis(50));
    c.send(b"0123456789").unwrap();
    let r = c.request(post("/echo", "next").as_bytes()).unwrap();
    assert_eq!(r.text(), "body: [next]\n", "{}", s.error_log());
}

#[test]
fn expect_100_continue() {
    let s = start();
    let mut c = s.client();
    c.send(
        b"POST /echo HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n",
    )
    .unwrap();
    let interim = c.read_response(false).unwrap();
    assert_eq!(interim.status, 100);
    c.send(b"hello").unwrap();
    let r = c.read_response(false).unwrap();
    assert_eq!(r.text(), "body: [hello]\n");
}

#[test]
fn a_large_body_goes_through_a_file_or_the_request_socket() {
    let s = start();
    let body: String = (0..300_000)
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let md5 = {
        let out = std::process::Command::new("md5sum")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut ch| {
                use std::io::Write;
                ch.stdin.take().unwrap().write_all(body.as_bytes())?;
                ch.wait_with_output()
            })
            .expect("md5sum");
        String::from_utf8_lossy(&out.stdout)[..32].to_string()
    };
    for path in ["/big", "/stream"] {
        let mut c = s.client();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        c.send(head.as_bytes()).unwrap();
        // in pieces, with pauses, so the server waits for more several times
        for piece in body.as_bytes().chunks(64 * 1024) {
            c.send(piece).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        let r = c.read_response(false).unwrap();
        let want = if path == "/big" {
            format!("300000 {md5} nil\n")
        } else {
            format!("300000 {md5} true\n")
        };
        assert_eq!(r.text(), want, "{path}\n{}", s.error_log());
        // and the connection serves the next request
        let r = c.request(post("/echo", "after").as_bytes()).unwrap();
        assert_eq!(r.text(), "body: [after]\n");
    }
    // the temp file is gone
    let temp = s.prefix().join("client_body_temp");
    let left: Vec<_> = std::fs::read_dir(&temp)
        .map(|d| d.filter_map(|e| e.ok()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn too_large_body_gets_413_while_the_client_still_sends() {
    let s = start();
    let mut c = s.client();
    let body = "x".repeat(200_000);
    let req = format!(
        "POST /small HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    // the server answers before reading the body; the client keeps writing
    let stream = c.stream().try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let mut st = stream;
        let _ = st.write_all(req.as_bytes());
    });
    let r = c.read_response(false).unwrap();
    assert_eq!(r.status, 413, "{}", s.error_log());
    assert!(r.text().contains("413 Request Entity Too Large"));
    assert_eq!(r.header("connection"), Some("close"));
    writer.join().unwrap();
    let mut rest = Vec::new();
    let _ = c.stream().try_clone().unwrap().read_to_end(&mut rest);
}

#[test]
fn set_status_sends_the_reason_phrase() {
    let s = start();
    let r = Client::connect(s.port())
        .unwrap()
        .request(b"GET /reason HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .unwrap();
    assert_eq!(r.status, 299);
    assert!(
        r.raw_head.starts_with("HTTP/1.1 299 Fine Indeed\r\n"),
        "{}",
        r.raw_head
    );
}
