#!/usr/bin/env bash
# Run the whole moonwire test suite: unit, property, end-to-end and spec tests.
# Installs (as root, from Debian packages) and starts what the tests need when missing.
set -euo pipefail
cd "$(dirname "$0")"

# Tools and libraries the end-to-end tests use (the reference OpenResty libraries, wrk-free).
need=()
for pkg in lua-nginx-redis lua-nginx-memcached lua-resty-lrucache lua-nginx-string lua-nginx-dns lua-nginx-websocket memcached; do
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

# The many-connections tests open ~15k sockets per process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

cargo test --workspace --no-fail-fast "$@"
