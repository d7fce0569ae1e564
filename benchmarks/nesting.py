"""Generation time against loop nesting, in every mode.

    python benchmarks/nesting.py                    # 4, 8, 12, 16, 19 nested loops
    python benchmarks/nesting.py --levels 4 10 12 --modes hvp
    python benchmarks/nesting.py --repeat 5         # the fastest of 5 runs each (a loaded machine)

Generates `for i0 in range(2): for i1 in ...: y = np.sin(y) * 1.5` nested n
deep, timing each generation on the process clock (`time.process_time`).
Timings are by hand, never asserted.
"""

from __future__ import annotations

import argparse
import time

import codegen


def nested_loops(levels: int) -> str:
    lines = ["import numpy as np", "", "", "def f(x):", "    y = x"]
    lines += ["    " * (d + 1) + f"for i{d} in range(2):" for d in range(levels)]
    lines += ["    " * (levels + 1) + "y = np.sin(y) * 1.5", "    return np.sum(y)"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", type=int, nargs="+", default=[4, 8, 12, 16, 19])
    parser.add_argument("--modes", nargs="+", default=["reverse", "forward", "hvp"])
    parser.add_argument("--repeat", type=int, default=1, help="time each this often, keep the fastest")
    args = parser.parse_args()
    for mode in args.modes:
        row = []
        for levels in args.levels:
            source, times = nested_loops(levels), []
            for _ in range(args.repeat):
                started = time.process_time()
                codegen.generate(source, mode=mode)
                times.append(time.process_time() - started)
            row.append(f"{levels}: {min(times):.3f} s")
        print(f"{mode:8}", "  ".join(row), flush=True)


if __name__ == "__main__":
    main()
