//! A real WebSocket echo server: Debian's lua-resty-websocket
//! (`resty.websocket.server`, unmodified) on `ngx.req.socket(true)`,
//! talked to by a real client, Python's `websockets` package (test.sh
//! installs it with pip when missing): text, binary, 16- and 64-bit
//! payload lengths, ping/pong both ways, a fragmented message and the
//! closing handshake.
//!
//! Debian installs the library as `nginx.websocket.*`; a one-line shim
//! under `PREFIX/lua/resty/websocket/` lets the handler say
//! `require "resty.websocket.server"` as applications do (as
//! tests/libraries.rs does for the other Debian modules).
//!
//! With `SPEC_NGINX=/usr/sbin/nginx` the same config runs against nginx +
//! lua-nginx-module instead, to confirm the expectations are OpenResty's.

mod support;

use std::fs;
use std::process::Command;

use support::{conf, TestServer};

const ECHO: &str = r#"
location = /ws {
    content_by_lua_block {
        local server = require "resty.websocket.server"
        local wb, err = server:new({ timeout = 5000, max_payload_len = 1048576 })
        if not wb then
            ngx.log(ngx.ERR, "failed to new websocket: ", err)
            return ngx.exit(444)
        end
        local parts = {}
        while true do
            local data, typ, err = wb:recv_frame()
            if not data then
                ngx.log(ngx.ERR, "failed to receive a frame: ", err)
                return ngx.exit(444)
            end
            if typ == "close" then
                -- echo the client's code and reason, then stop
                wb:send_close(err, "echo: " .. data)
                return
            elseif typ == "ping" then
                wb:send_pong(data)
            elseif typ == "pong" then
                wb:send_text("got pong: " .. data)
            else
                if typ ~= "continuation" then
                    parts = { typ = typ }
                end
                parts[#parts + 1] = data
                -- err is "again" until the last fragment
                if err ~= "again" then
                    local msg = table.concat(parts)
                    if parts.typ == "binary" then
                        wb:send_binary(msg)
                    elseif msg == "ping me" then
                        wb:send_ping("from server")
                    else
                        wb:send_text(msg)
                    end
                end
            end
        end
    }
}
"#;

const CLIENT: &str = r#"
import asyncio, sys
import websockets
from websockets.asyncio.client import connect

async def main(port):
    async with connect(f"ws://127.0.0.1:{port}/ws", compression=None,
                       ping_interval=None, max_size=2**21) as ws:
        await ws.send("hello")
        print("text:", await ws.recv())
        await ws.send(b"\x00\x01\xfe\xff")
        r = await ws.recv()
        print("binary:", type(r).__name__, r.hex())
        await ws.send("y" * 300)
        r = await ws.recv()
        print("16-bit length:", len(r), r == "y" * 300)
        big = bytes(range(256)) * 400
        await ws.send(big)
        r = await ws.recv()
        print("64-bit length:", len(r), r == big)
        pong = await ws.ping(b"from client")
        await asyncio.wait_for(pong, 5)
        print("client ping answered")
        await ws.send(["frag", "men", "ted"])
        print("fragmented:", await ws.recv())
        await ws.send("ping me")
        print("server ping:", await ws.recv())
        await ws.close(code=4000, reason="done")
        print("close:", ws.protocol.close_rcvd.code, ws.protocol.close_rcvd.reason)

asyncio.run(main(int(sys.argv[1])))
"#;

#[test]
fn websocket_echo_with_python_client() {
    let reference = std::env::var("SPEC_NGINX").ok().filter(|s| !s.is_empty());
    let mut main = String::new();
    if reference.is_some() {
        main.push_str(
            "load_module /usr/lib/nginx/modules/ndk_http_module.so;\n\
             load_module /usr/lib/nginx/modules/ngx_http_lua_module.so;\n",
        );
    }
    let http = "lua_package_path \"$prefix/lua/?.lua;/usr/share/lua/5.1/?.lua;;\";\n";
    let text = conf(&main, http, ECHO);
    let setup = |prefix: &std::path::Path| {
        let p = prefix.join("lua/resty/websocket/server.lua");
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, "return require \"nginx.websocket.server\"\n").unwrap();
    };
    let bin = reference
        .clone()
        .unwrap_or_else(|| support::moonwire_bin().to_string());
    let s = TestServer::try_start_bin(&bin, reference.is_some(), setup, &text, &[])
        .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new("python3")
        .arg("-c")
        .arg(CLIENT)
        .arg(s.port().to_string())
        .output()
        .expect("python3 (with the websockets package: pip install websockets)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "client failed: {}\n{stdout}\n--- stderr:\n{}\n--- error log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        s.error_log()
    );
    assert_eq!(
        stdout,
        "text: hello\n\
         binary: bytes 0001feff\n\
         16-bit length: 300 True\n\
         64-bit length: 102400 True\n\
         client ping answered\n\
         fragmented: fragmented\n\
         server ping: got pong: from server\n\
         close: 4000 echo: done\n",
        "--- error log:\n{}",
        s.error_log()
    );
    assert!(
        !s.error_log().contains("[error]"),
        "--- error log:\n{}",
        s.error_log()
    );
}
