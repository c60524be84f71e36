"""Writes two psql-like outputs of N lines that differ in 1% of the lines (plus white space
noise that `diff -w` ignores) for bench/compare.sh: generate.py N EXPECTED ACTUAL."""
import sys

n_lines = int(sys.argv[1])
with open(sys.argv[2], "w") as expected, open(sys.argv[3], "w") as actual:
    for i in range(n_lines):
        line = f" {i:>8} | value {i * 2654435761 % 1000003:>7} | {i % 97}.{i % 13:02}"
        expected.write(line + "\n")
        h = (i * 2654435761) % 4294967296
        if h % 100 == 0:  # 1% of the lines differ
            actual.write(line.replace("value", "VALUE") + "\n")
        elif h % 37 == 1:  # trailing blank: a difference only without -w
            actual.write(line + " \n")
        else:
            actual.write(line + "\n")
