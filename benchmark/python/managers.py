"""The managers workload in CPython, as the reference of `napi-multiprocessing bench --workload managers`.

A `multiprocessing.Manager().dict()` is used from a child process (as a Pool worker or Process
uses it): `d[i] = i` then `d[i]` for i in range(N), one call after another. CPython's proxies are
synchronous, so there is no "in flight" variant: its sequential loop is the reference for ours.
Prints one JSON object on stdout: the wall time of every measured run and the checksum (the sum
of the values read back). The Node side takes the median; this script only measures.
"""
import argparse
import json
import multiprocessing
import platform
import sys
import time


def loop(d, n):
    total = 0
    for i in range(n):
        d[i] = i
        total += d[i]
    return total


def child(d, n, runs, warmup, out):
    times = []
    checksums = set()
    for r in range(warmup + runs):
        start = time.perf_counter()
        total = loop(d, n)
        elapsed = (time.perf_counter() - start) * 1000
        checksums.add(total)
        if r >= warmup:
            times.append(elapsed)
    out.put((times, sorted(checksums)))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()

    with multiprocessing.Manager() as manager:
        d = manager.dict()
        out = manager.Queue()
        p = multiprocessing.Process(target=child, args=(d, args.n, args.runs, args.warmup, out))
        p.start()
        times, checksums = out.get()
        p.join()

    json.dump(
        {
            "runsMs": times,
            # Each iteration is two calls: a set and a get.
            "opsPerRun": 2 * args.n,
            "checksums": checksums,
            "python": platform.python_implementation() + " " + platform.python_version(),
            "startMethod": multiprocessing.get_start_method(),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
