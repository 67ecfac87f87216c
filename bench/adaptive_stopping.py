#!/usr/bin/env python
"""Adaptive stopping: what stopping agents early saves, and what it costs in
accuracy, measured with `manage.py evaluate` on the fake model scripted with
a known rate of right drafts.

Each agent's draft is right with probability --right (seeded, per problem and
agent), about --tokens tokens long, at its own speed (per-token delays drawn
between 5 and 25 ms, so the finishing order varies). The same problems are
evaluated three times, side by side in one run:

    wait for all   MUSE_AGREEMENT_STOP=false, no quorum
    agreement      MUSE_AGREEMENT_STOP=true (the default)
    agreement + quorum 3 of 4

and it prints, per strategy, accuracy, mean tokens and the p50 wait, with
each variant's ratio to waiting for all.

    .venv/bin/python bench/adaptive_stopping.py [--n 30] [--right 0.7] [--tokens 120]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.harness import parse_args  # noqa: E402
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")

from museapp.evals.problems import arithmetic  # noqa: E402
from tests.fakellm import FakeLLM, Reply  # noqa: E402

ROLES = ["Direct solver", "Step-by-step reasoner", "Skeptic", "Explorer"]
VARIANTS = {
    "wait for all": {"MUSE_AGREEMENT_STOP": "false", "MUSE_QUORUM": "0"},
    "agreement": {"MUSE_AGREEMENT_STOP": "true", "MUSE_QUORUM": "0"},
    "agreement + quorum 3": {"MUSE_AGREEMENT_STOP": "true", "MUSE_QUORUM": "3"},
}


def script(fake: FakeLLM, *, n: int, right: float, tokens: int, seed: int) -> float:
    """Script every agent's draft; returns the share of problems whose
    majority of drafts is right (what a perfect vote would score)."""
    rng = random.Random(seed)
    majority_right = 0
    for problem in arithmetic(n, seed):
        answer = int(problem.accepted[0])
        # Quick answers: right. Scripted first: later rules are matched first, and the agents' name their role.
        fake.script(problem.prompt, Reply(text=f"Final answer: {answer}"))
        rights = 0
        for role in ROLES:
            is_right = rng.random() < right
            rights += is_right
            given = answer if is_right else answer + rng.choice([1, 2, -1, 10])
            text = "Let me work through this. " * (tokens // 5) + f"\nFinal answer: {given}"
            fake.script(problem.prompt, Reply(text=text, token_delay=rng.uniform(0.005, 0.025),
                                              first_token_delay=rng.uniform(0, 0.2)), system=f"You are the {role}")
        majority_right += rights > len(ROLES) / 2
    return majority_right / n


def evaluate(variant: dict, *, n: int, seed: int, data_dir: Path, fake: FakeLLM) -> dict:
    out = data_dir / f"report-{len(list(data_dir.glob('report-*')))}.json"
    env = {**os.environ, **variant, "MUSE_DATA_DIR": str(data_dir), "MUSE_MODEL": "openai/fake-model",
           "MUSE_MODELS": "", "MUSE_API_BASE": fake.url, "MUSE_API_KEY": "none", "MUSE_LLM_RETRIES": "0",
           "MUSE_MAX_RUNNING_ANSWERS": "4", "LOG_LEVEL": "WARNING", "MUSE_WARM_UP": "0"}
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "evaluate", "--conditions", "vote:4,consensus:4",
                    "--set", "arithmetic", "--n", str(n), "--seed", str(seed), "--concurrency", "4",
                    "--no-progress", "--json", str(out)], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=30, help="problems")
    parser.add_argument("--right", type=float, default=0.7, help="chance each draft is right")
    parser.add_argument("--tokens", type=int, default=120, help="tokens per draft, about")
    parser.add_argument("--seed", type=int, default=1)
    args = parse_args(parser, n=6, tokens=40)

    fake = FakeLLM().start()
    try:
        majority = script(fake, n=args.n, right=args.right, tokens=args.tokens, seed=args.seed)
        print(f"{args.n} problems, each draft right with p = {args.right}: most drafts right on {majority:.0%}")
        with tempfile.TemporaryDirectory(prefix="muse-stopping-") as folder:
            reports = {name: evaluate(variant, n=args.n, seed=args.seed, data_dir=Path(folder), fake=fake)
                       for name, variant in VARIANTS.items()}
    finally:
        fake.stop()
    print_table(reports)


def print_table(reports: dict[str, dict]) -> None:
    base = reports["wait for all"]
    print(f"{'variant':<22}{'condition':<14}{'accuracy':>9}{'tokens':>9}{'x all':>7}{'p50 s':>8}{'x all':>7}"
          f"{'stopped early':>15}")
    for name, report in reports.items():
        for row in report["conditions"]:
            ref = next(r for r in base["conditions"] if r["condition"] == row["condition"])
            print(f"{name:<22}{row['condition']:<14}{row['accuracy']:>9.1%}{row['tokens']:>9.0f}"
                  f"{row['tokens'] / ref['tokens']:>7.2f}{row['p50_s']:>8.2f}{row['p50_s'] / ref['p50_s']:>7.2f}"
                  f"{row['stopped_early']:>15.0%}")


if __name__ == "__main__":
    main()
