#!/usr/bin/env python3
"""Folds `baton bench run` JSON lines (one per run) into one median line."""
import json, statistics, sys

runs = [json.loads(l) for l in sys.stdin if l.startswith("{")]
v = [round(r["instances_per_sec"]) for r in runs]
r = runs[0]
print(f"baton          {r['version']:7s} {r['file']:22s} store={r['store']:6s} "
      f"N={r['n']:<6d} runs={v} median={statistics.median(v)} inst/s")
