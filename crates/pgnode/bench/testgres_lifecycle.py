"""testgres side of bench/compare.sh: init + start + select 1 + stop + cleanup, like
examples/lifecycle.rs. Usage: testgres_lifecycle.py RUNS PARALLEL (PG_BIN names the bin dir)."""
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import testgres


def one_life():
    start = time.perf_counter()
    node = testgres.get_new_node()
    node.init()
    node.start()
    assert node.execute("select 1") == [(1,)]
    node.stop()
    node.cleanup()
    return time.perf_counter() - start


def summary(samples):
    samples = sorted(samples)
    q = lambda p: samples[round((len(samples) - 1) * p)] * 1000
    return "median %.1f ms (p25 %.1f, p75 %.1f, n=%d)" % (q(0.5), q(0.25), q(0.75), len(samples))


def main():
    runs, parallel = int(sys.argv[1]), int(sys.argv[2])
    one_life()  # warm-up (fills testgres' initdb cache, if it uses it)
    print("testgres %s sequential: %s" % (testgres.__version__ if hasattr(testgres, "__version__") else "", summary([one_life() for _ in range(runs)])))
    if parallel:
        start = time.perf_counter()
        with ThreadPoolExecutor(parallel) as pool:
            each = list(pool.map(lambda _: one_life(), range(parallel)))
        print("testgres parallel x%d: wall %.0f ms, per cluster %s" % (parallel, (time.perf_counter() - start) * 1000, summary(each)))


main()
