"""The peers' shared timing loop: `warmup` untimed runs of `run`, then `runs` timed ones; prints
{"min": ms, "median": ms}, the line benchmarks/compare-peers reads."""
import json
import statistics
import time


def report(run, runs, warmup):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    print(json.dumps({"min": min(times), "median": statistics.median(times)}))
