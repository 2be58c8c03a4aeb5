"""The seed experiment in CPython, as the external reference of `napi-multiprocessing bench`.

sum_primes(n) for n in range(0, N, STEP), on one thread or on a multiprocessing.Pool, with the same
algorithm as the JS and Rust engines (trial division by every i in 2..=ceil(sqrt(n))). Prints one
JSON object on stdout: the wall time of every measured run, the pool start-up, and the checksum.
The Node side checks the checksum and takes the median; this script only measures.
"""
import argparse
import json
import math
import multiprocessing
import platform
import sys
import time


def is_prime(n):
    if n < 2:
        return False
    if n == 2:
        return True
    limit = math.isqrt(n)
    if limit * limit < n:
        limit += 1  # ceil(sqrt(n)), exactly, as the other engines
    for i in range(2, limit + 1):
        if n % i == 0:
            return False
    return True


def sum_primes(n):
    return sum(x for x in range(2, n) if is_prime(x))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["single", "pool"], required=True)
    parser.add_argument("--n", type=int, default=100000)
    parser.add_argument("--step", type=int, default=500)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    args = parser.parse_args()
    inputs = list(range(0, args.n, args.step))

    runs = []
    checksums = set()
    startup_ms = None
    if args.mode == "single":
        for i in range(args.warmup + args.runs):
            start = time.perf_counter()
            total = sum(sum_primes(n) for n in inputs)
            elapsed = (time.perf_counter() - start) * 1000
            checksums.add(total)
            if i >= args.warmup:
                runs.append(elapsed)
    else:
        start = time.perf_counter()
        with multiprocessing.Pool(args.processes) as pool:
            # Start-up as the Node pools measure it: until every worker has answered a trivial task.
            pool.map(sum_primes, [0] * args.processes, chunksize=1)
            startup_ms = (time.perf_counter() - start) * 1000
            for i in range(args.warmup + args.runs):
                start = time.perf_counter()
                total = sum(pool.map(sum_primes, inputs))  # the default chunksize, as a user writes it
                elapsed = (time.perf_counter() - start) * 1000
                checksums.add(total)
                if i >= args.warmup:
                    runs.append(elapsed)

    json.dump(
        {
            "runsMs": runs,
            "startupMs": startup_ms,
            "checksums": sorted(checksums),
            "python": platform.python_implementation() + " " + platform.python_version(),
            "startMethod": multiprocessing.get_start_method(),
        },
        sys.stdout,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
