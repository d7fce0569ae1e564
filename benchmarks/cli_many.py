"""The `codegen` command on many files: one worker or several, and the cache.

    python benchmarks/cli_many.py             # 90 files, as issue 19 timed black
    python benchmarks/cli_many.py --files 30

Copies the examples' forward files (renamed) into a temporary project and
times, on the wall clock: a first run with one worker, a first run with one per
CPU, a second run with nothing to do (the cache), and the same with --no-cache.
Timings are by hand, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=90)
    args = parser.parse_args()
    sources = sorted(p for p in EXAMPLES.glob("*.py") if not p.stem.endswith("_backward"))
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / ".git").mkdir()
        for i in range(args.files):
            source = sources[i % len(sources)]
            shutil.copy(source, root / f"{source.stem}_{i}.py")
        env = {**os.environ, "CODEGEN_CACHE_DIR": str(root.parent / f"{root.name}-cache")}

        def timed(label: str, *flags: str, clean: bool = False) -> None:
            if clean:
                for output in root.glob("*_backward.py"):
                    output.unlink()
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "codegen", "-q", *flags, "."], cwd=root, env=env)
            took = time.perf_counter() - start
            print(f"{label:<40} {took:6.2f} s  (exit {result.returncode})")

        print(f"{args.files} files, {os.cpu_count()} CPUs")
        timed("first run, -W 1, --no-cache", "-W", "1", "--no-cache", clean=True)
        timed("first run, one worker per CPU", clean=True)
        timed("second run (cache)")
        timed("second run, --no-cache", "--no-cache")
        shutil.rmtree(env["CODEGEN_CACHE_DIR"], ignore_errors=True)


if __name__ == "__main__":
    main()
