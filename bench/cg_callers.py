#!/usr/bin/env python3
"""Who calls FUNC (substring), with inclusive cost of those calls.
usage: cg_callers.py FILE FUNC"""
import collections
import sys

callers = collections.Counter()
fn = "?"
target = None
pending = False
with open(sys.argv[1]) as f:
    for line in f:
        if line.startswith("fn="):
            fn = line[3:].strip()
        elif line.startswith("cfn="):
            target = line[4:].strip()
        elif line.startswith("calls="):
            pending = True
        elif pending:
            pending = False
            if target and sys.argv[2] in target:
                callers[fn] += int(line.split()[1])
for name, c in callers.most_common(25):
    print(f"{c:12d}  {name[:160]}")
