"""Does the insights page's length-controlled estimate tell the truth?

Blind comparisons are simulated from a known model (position bias 0.2,
length effect 0.8 per log ratio, contemplated answers about twice as long,
a fifth of people torn between the two), for a few true contemplated
effects and sample sizes. For each, over many seeds: the raw share's mean
and how often its 95% interval holds the truth at equal length, and the
same for the length-controlled estimate (museapp/feedback/preference.py).

    .venv/bin/python bench/preference_fit.py [--seeds 200]

Pure Python, no services; about a minute.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import parse_args  # noqa: E402
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "museapp.settings")

import django  # noqa: E402 - settings first

django.setup()

from museapp.feedback.preference import length_controlled, preference_share  # noqa: E402
from tests.feedback.test_preference import synthetic  # noqa: E402 - the tests' own generator

EFFECTS = (0.0, 0.4)
SIZES = (30, 100, 400)


def one_case(effect: float, n: int, seeds: int) -> dict:
    truth = 1 / (1 + math.exp(-effect))
    raw, fitted, raw_hits, fit_hits, widths = [], [], 0, 0, []
    for seed in range(seeds):
        rows = synthetic(seed, n=n, position=0.2, contemplated=effect, length=0.8, contemplated_log_chars=6.7)
        choices = [choice for _, choice, _, _ in rows]
        share = preference_share(wins=choices.count("contemplated"), losses=choices.count("quick"),
                                 ties=choices.count("same"))
        fit = length_controlled(rows)
        raw.append(share.rate)
        raw_hits += share.interval[0] <= truth <= share.interval[1]
        fitted.append(fit.preference)
        fit_hits += fit.interval[0] <= truth <= fit.interval[1]
        widths.append(fit.interval[1] - fit.interval[0])
    return {"truth": truth, "raw": statistics.mean(raw), "raw_cover": raw_hits / seeds,
            "fit": statistics.mean(fitted), "fit_cover": fit_hits / seeds, "width": statistics.median(widths)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=200)
    seeds = parse_args(parser, seeds=10).seeds
    print(f"{seeds} seeds per row; coverage: share of 95% intervals holding the truth at equal length")
    print(f"{'effect':>6} {'n':>4} {'truth':>6} {'raw mean':>9} {'raw cover':>9} {'fit mean':>9} "
          f"{'fit cover':>9} {'fit width':>9}")
    for effect in EFFECTS:
        for n in SIZES:
            row = one_case(effect, n, seeds)
            print(f"{effect:>6.1f} {n:>4} {row['truth']:>6.1%} {row['raw']:>9.1%} {row['raw_cover']:>9.1%} "
                  f"{row['fit']:>9.1%} {row['fit_cover']:>9.1%} {row['width']:>9.1%}")


if __name__ == "__main__":
    main()
