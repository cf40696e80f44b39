"""The peers' shared `time` command: its options, and the loop that makes `warmup` untimed runs of
`run`, then `runs` timed ones, and prints {"min": ms, "median": ms}, the line compare-peers reads."""
import json
import statistics
import time


def add_options(command):
    command.add_argument("--threads", type=int, default=1)
    command.add_argument("--runs", type=int, default=20)
    command.add_argument("--warmup", type=int, default=3)


def report(run, runs, warmup):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1e3)
    print(json.dumps({"min": min(times), "median": statistics.median(times)}))
