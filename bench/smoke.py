"""Run every benchmark script in bench/ in its quickest mode (`--quick`), one
after the other, and fail when one of them fails or prints no figures. CI
runs this after the tests so that no script can rot unnoticed: nothing is
timed against a target here, each script only has to measure what it says.

Each script runs on the embedded defaults (a fresh SQLite file, an embedded
Redis where it needs one), whatever DATABASE_URL / REDIS_URL say, so that a
smoke run never seeds rows into a real database.

    .venv/bin/python bench/smoke.py            # every script
    .venv/bin/python bench/smoke.py ttft search   # only these
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
NOT_SCRIPTS = {"harness", "smoke", "soak_faults"}  # modules the scripts import
TIMEOUT_S = 600  # the slowest quick run takes about two minutes
FIGURE = re.compile(r"\d")  # a figure: each script fails by itself when it could not measure one


def scripts(names: list[str]) -> list[Path]:
    every = sorted(p for p in BENCH.glob("*.py") if p.stem not in NOT_SCRIPTS)
    if not names:
        return every
    unknown = set(names) - {p.stem for p in every}
    if unknown:
        raise SystemExit(f"no such benchmark: {', '.join(sorted(unknown))}")
    return [p for p in every if p.stem in names]


def run(script: Path) -> tuple[bool, float, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    started = time.monotonic()
    try:
        done = subprocess.run([sys.executable, str(script), "--quick"], cwd=BENCH.parent, env=env,
                              capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return False, time.monotonic() - started, output + f"\n(no end after {TIMEOUT_S} s)"
    output = done.stdout + done.stderr
    if done.returncode != 0:
        return False, time.monotonic() - started, output + f"\n(exit status {done.returncode})"
    if not FIGURE.search(done.stdout):
        return False, time.monotonic() - started, output + "\n(printed no figure)"
    return True, time.monotonic() - started, done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scripts to run, without .py (default: all)")
    args = parser.parse_args()
    failed = []
    for script in scripts(args.names):
        ok, seconds, output = run(script)
        print(f"bench/{script.name:<22} {seconds:6.1f} s  {'ok' if ok else 'FAILED'}", flush=True)
        if not ok:
            failed.append(script.name)
            print("    " + "\n    ".join(output.strip().splitlines()[-40:]), flush=True)
    if failed:
        print(f"bench smoke run: {len(failed)} failed: {', '.join(failed)}")
        return 1
    print("bench smoke run: every script printed its figures")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
