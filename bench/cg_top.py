#!/usr/bin/env python3
"""Self cost per function from a callgrind output file (uncompressed names).
usage: cg_top.py FILE [N]"""
import collections
import sys

cost = collections.Counter()
fn = "?"
skip = False
with open(sys.argv[1]) as f:
    for line in f:
        if line.startswith("fn="):
            fn = line[3:].strip()
            continue
        if line.startswith("calls="):
            skip = True
            continue
        if line[:1].isdigit() or line[:1] in "+-*":
            parts = line.split()
            if skip:
                skip = False
                continue
            if len(parts) >= 2:
                cost[fn] += int(parts[1])
total = sum(cost.values())
for name, c in cost.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 40):
    print(f"{c:12d} {100.0 * c / total:5.1f}%  {name[:150]}")
print(f"{total:12d} total")

if len(sys.argv) > 3 and sys.argv[3] == "groups":
    groups = collections.Counter()
    for name, c in cost.items():
        if name.startswith("lj_") or name.startswith("lua_") or name.startswith("luaL_") or name.startswith("index2adr") or name.startswith("lib_"):
            g = "luajit"
        elif "mlua" in name:
            g = "mlua"
        elif "tokio" in name:
            g = "tokio"
        elif name.startswith("mi_") or name.startswith("_mi_"):
            g = "mimalloc"
        elif "moonwire" in name or "ngx_util" in name or "lua_cjson" in name:
            g = "moonwire"
        elif "httparse" in name:
            g = "httparse"
        else:
            g = "other:" + name[:40]
        groups[g if not g.startswith("other") else "other"] += c
    for g, c in groups.most_common():
        print(f"{g:10} {c:12d} {100.0 * c / total:5.1f}%")
