#!/usr/bin/env python3
"""Splits a Zipkin v2 JSON array written one span per line (../shared/bench/gen_zipkin.py) into N files,
span by span in turn, so most traces have spans in several files (what a cluster's shuffle must bring
together). usage: scripts/split-spans.py IN.json OUTDIR N"""
import os
import sys

src, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(out, exist_ok=True)
files = [open(os.path.join(out, "part-%03d.json" % i), "w") for i in range(n)]
first = [True] * n
for f in files:
    f.write("[\n")
k = 0
with open(src) as lines:
    for line in lines:
        line = line.strip()
        if line in ("[", "]", ""):
            continue
        line = line.rstrip(",")
        i = k % n
        files[i].write(("" if first[i] else ",\n") + line)
        first[i] = False
        k += 1
for f in files:
    f.write("\n]\n")
    f.close()
print("%d spans into %d files in %s" % (k, n, out), file=sys.stderr)
