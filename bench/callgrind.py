#!/usr/bin/env python3
"""User-space instructions per request, counted by callgrind: a repeatable
figure on a noisy machine.

For each server: generate the case's nginx.conf with ONE worker (nginx with
`master_process off` so the process under valgrind is the worker), start it
under `valgrind --tool=callgrind --smc-check=all-non-file`, send a warm-up,
zero the counters (`callgrind_control -z`), send exactly N requests on
keep-alive connections, dump (`callgrind_control -d`) and divide.

    python3 callgrind.py --cases hello,vars -n 5000 \
        --server nginx='nginx -p {prefix}/ -c {conf}' \
        --server mw='../target/release/moonwire -p {prefix} -c {conf}'
"""
import argparse
import glob
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402  (the same case files and config generator as the wrk runner)


def request_bytes(case):
    method = case["method"]
    body = b"x" * case["body_bytes"] if case["body_bytes"] else b""
    head = f"{method} {case['path']} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    for h in case["headers"]:
        head += h + "\r\n"
    if body:
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def read_response(sock, buf):
    """Read one response from a keep-alive connection; returns (status, rest)."""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed")
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    if m:
        n = int(m.group(1))
        while len(rest) < n:
            rest += sock.recv(65536)
        return status, rest[n:]
    if re.search(rb"(?i)\r\ntransfer-encoding: *chunked", head):
        while not rest.endswith(b"0\r\n\r\n") or b"0\r\n\r\n" not in rest:
            d = sock.recv(65536)
            if not d:
                raise ConnectionError("closed in body")
            rest += d
        i = rest.index(b"0\r\n\r\n")
        # find the real terminator: a zero-size chunk at a chunk boundary
        pos = 0
        while True:
            nl = rest.index(b"\r\n", pos)
            size = int(rest[pos:nl].split(b";")[0], 16)
            if size == 0:
                end = nl + 4
                break
            pos = nl + 2 + size + 2
            while len(rest) < pos + 5:
                rest += sock.recv(65536)
        del i
        return status, rest[end:]
    return status, rest


def send_requests(port, case, n, conns=4):
    req = request_bytes(case)
    socks = [socket.create_connection(("127.0.0.1", port), timeout=60) for _ in range(conns)]
    bufs = [b""] * conns
    bad = 0
    for i in range(n):
        k = i % conns
        socks[k].sendall(req)
        status, bufs[k] = read_response(socks[k], bufs[k])
        bad += status != 200
    for s in socks:
        s.close()
    return bad


def wait_ready(port, timeout):
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def measure(srv, case, args):
    prefix = tempfile.mkdtemp(prefix="cg-")
    os.makedirs(os.path.join(prefix, "logs"))
    for t in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        os.makedirs(os.path.join(prefix, "tmp", t))
    shutil.copytree(run.LUA_DIR, os.path.join(prefix, "lua"))
    conf = run.gen_conf(case, srv, prefix, args.port, 1, "").replace("master_process on;", "master_process off;")
    conf_path = os.path.join(prefix, "nginx.conf")
    with open(conf_path, "w") as f:
        f.write(conf)
    cmd = shlex.split(srv.cmd.format(prefix=prefix, conf=conf_path))
    out = os.path.join(prefix, "callgrind.out.%p")
    vg = ["valgrind", "--tool=callgrind", "--smc-check=all-non-file", "--compress-strings=no", f"--callgrind-out-file={out}"]
    proc = subprocess.Popen(vg + cmd, stdout=subprocess.DEVNULL, stderr=open(os.path.join(prefix, "valgrind.log"), "w"))
    try:
        if not wait_ready(args.port, 120):
            raise SystemExit(f"{srv.name}: not ready, see {prefix}")
        bad = send_requests(args.port, case, args.warmup)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        bad += send_requests(args.port, case, args.n)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    total = 0
    dumps = [p for p in glob.glob(os.path.join(prefix, "callgrind.out.*")) if re.search(r"\.\d+\.\d+$", p) or p.endswith(".1")]
    dumps = dumps or glob.glob(os.path.join(prefix, "callgrind.out.*"))
    best = None
    for p in dumps:
        with open(p) as f:
            for line in f:
                if line.startswith("summary:") or line.startswith("totals:"):
                    v = int(line.split()[1])
                    # the explicit dump after zeroing is the one with our N requests
                    if best is None or os.path.getmtime(p) > best[0]:
                        best = (os.path.getmtime(p), v, p)
                    break
    if best is None:
        raise SystemExit(f"{srv.name}: no callgrind dump in {prefix}")
    total = best[1]
    if not args.keep:
        shutil.rmtree(prefix, ignore_errors=True)
    else:
        print(f"  kept {prefix} ({best[2]})", file=sys.stderr)
    return total, bad


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", action="append", default=[], metavar="NAME=CMD")
    ap.add_argument("--flavor", action="append", default=[], metavar="NAME=nginx|plain")
    ap.add_argument("--cases", default="hello")
    ap.add_argument("-n", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--port", type=int, default=18090)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    args.set = []
    servers = run.parse_servers(args)
    print(f"{'case':14} {'server':8} {'Ir/request':>12} {'vs first':>9}")
    for case in run.load_cases(args.cases):
        first = None
        for srv in servers:
            total, bad = measure(srv, case, args)
            per = total / args.n
            first = first or per
            print(f"{case['name']:14} {srv.name:8} {per:12.0f} {per / first:9.3f}" + (f"  ({bad} non-200)" if bad else ""),
                  flush=True)


if __name__ == "__main__":
    main()
