#!/usr/bin/env bash
# Run the whole moonwire test suite: unit, property, end-to-end and spec tests.
# Installs (as root, from Debian packages) and starts what the tests need when missing:
# redis-server on 127.0.0.1:6379 and memcached on 127.0.0.1:11211 (tests/libraries.rs,
# tests/mixed_load.rs), dnsmasq (started by tests/libraries.rs itself).
set -euo pipefail
cd "$(dirname "$0")"

# Tools and libraries the end-to-end tests use (the reference OpenResty libraries, wrk-free).
need=()
for pkg in lua-nginx-redis lua-nginx-memcached lua-resty-lrucache lua-nginx-string lua-nginx-dns \
           lua-nginx-websocket memcached redis-server dnsmasq-base; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "test.sh: installing ${need[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
    else
        echo "test.sh: missing Debian packages: ${need[*]} (install them as root)" >&2
    fi
fi

# The WebSocket test's client (tests/websocket.rs): Python's websockets package.
if ! python3 -c "import websockets" 2>/dev/null; then
    echo "test.sh: installing the websockets Python package" >&2
    python3 -m pip install -q websockets || echo "test.sh: pip install websockets failed" >&2
fi

# The many-connections tests open ~15k sockets per process (raised before the
# services start, so that redis can take 10,000 clients too).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Whether something accepts TCP connections on 127.0.0.1:$1.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port() {
    local port=$1 name=$2
    for _ in $(seq 1 100); do
        port_open "$port" && return 0
        sleep 0.05
    done
    echo "test.sh: $name did not come up on 127.0.0.1:$port" >&2
    return 1
}

if ! port_open 6379; then
    if command -v redis-server >/dev/null; then
        echo "test.sh: starting redis-server on 127.0.0.1:6379" >&2
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
        wait_port 6379 redis-server || true
    else
        echo "test.sh: redis-server is not installed; the Redis tests will fail" >&2
    fi
fi

# PostgreSQL for the tokio-postgres example extension (examples/ext-postgres):
# user postgres, trust auth on 127.0.0.1, database test.
if ! port_open 5432; then
    if ! command -v pg_ctlcluster >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "test.sh: installing postgresql" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || true
    fi
    if command -v pg_ctlcluster >/dev/null; then
        echo "test.sh: starting PostgreSQL" >&2
        ver=$(ls /etc/postgresql | sort -V | tail -1)
        pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
        wait_port 5432 postgresql || true
    else
        echo "test.sh: PostgreSQL is not available; the ext-postgres tests will fail" >&2
    fi
fi
if port_open 5432 && command -v psql >/dev/null; then
    # the example connects as postgres without a password to database test
    if ! psql "host=127.0.0.1 user=postgres dbname=test" -c "select 1" >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        su postgres -c "createdb test" 2>/dev/null || true
        conf=$(su postgres -c "psql -tAc 'show hba_file'" 2>/dev/null)
        if [ -n "$conf" ] && ! grep -q "^host all all 127.0.0.1/32 trust" "$conf"; then
            sed -i '1i host all all 127.0.0.1/32 trust' "$conf"
            su postgres -c "psql -c 'select pg_reload_conf()'" >/dev/null 2>&1 || true
        fi
    fi
fi

if ! port_open 11211; then
    if command -v memcached >/dev/null; then
        echo "test.sh: starting memcached on 127.0.0.1:11211" >&2
        if [ "$(id -u)" = 0 ]; then
            memcached -d -u root -l 127.0.0.1 -p 11211
        else
            memcached -d -l 127.0.0.1 -p 11211
        fi
        wait_port 11211 memcached || true
    else
        echo "test.sh: memcached is not installed; the memcached tests will fail" >&2
    fi
fi

cargo test --workspace --no-fail-fast "$@"
