"""An evaluation's figures, per condition, from its graded items.

Every condition is compared with `quick` on the same problems (paired):
the difference in accuracy with a bootstrap interval and McNemar's exact
p-value, and what the difference cost in tokens and seconds.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean

from museapp.evals.conditions import QUICK
from museapp.evals.grading import OFF_QUESTION, degeneracy, names_the_process
from museapp.evals.problems import Problem
from museapp.evals.stats import mcnemar_p, paired_interval, percentile, wilson

FIELDS = ["condition", "problem_set", "problem_index", "correct", "answer", "answer_status", "prompt_tokens",
          "completion_tokens", "cost", "wall_ms", "drafts", "drafts_right", "drafts_agree", "early_stop",
          "message__confidence", "problem"]
AUTO_SHARES = (0.1, 0.25, 0.4, 0.5, 0.75)  # of quick answers, the least confident, contemplated on top


def run_report(run) -> dict:
    items = list(run.items.filter(status="graded").values(*FIELDS))
    return {
        "run": run.pk, "model": run.model, "sets": run.sets, "n": run.n, "seed": run.seed,
        "settings": run.settings, "conditions": condition_rows(items, run.conditions, seed=run.seed),
        "auto": auto_rows(items, run.conditions),
    }


BUDGETS = (1.0, 1.5, 2.0, 3.0, 6.0)  # tokens per problem, as multiples of a quick answer's


def budget_picks(report: dict) -> list[dict]:
    """For each budget (tokens as a multiple of quick's), the most accurate
    way to answer within it: quick, a condition, or Auto at a threshold."""
    rows = report["conditions"]
    quick = next((row for row in rows if row["condition"] == QUICK and row["tokens"]), None)
    if quick is None:
        return []
    options = [(row["accuracy"], row["tokens"] / quick["tokens"], row["condition"]) for row in rows
               if row["accuracy"] is not None and row["tokens"]]
    options += [(row["accuracy"], row["tokens_ratio"], f"{row['condition']} below {row['threshold']:.3f}")
                for row in report.get("auto") or [] if row["accuracy"] is not None and row["tokens_ratio"]]
    picks = []
    for budget in BUDGETS:
        within = [option for option in options if option[1] <= budget]
        if within:
            accuracy, ratio, name = max(within, key=lambda option: (option[0], -option[1]))
            picks.append({"budget": budget, "pick": name, "accuracy": accuracy, "tokens_ratio": ratio})
    return picks


def _mean(values) -> float | None:
    present = [float(v) for v in values if v is not None]
    return fmean(present) if present else None


def condition_rows(items: list[dict], conditions: list[str], *, seed: int = 0) -> list[dict]:
    by_condition: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        by_condition[item["condition"]].append(item)
    quick = {(i["problem_set"], i["problem_index"]): i for i in by_condition.get(QUICK, [])}
    rows = [_row(name, by_condition.get(name, [])) for name in conditions]
    quick_row = next((row for row in rows if row["condition"] == QUICK), None)
    for row in rows:
        if quick_row is not None and row is not quick_row:
            row.update(_against_quick(row, by_condition[row["condition"]], quick, quick_row, seed))
    return rows


def auto_rows(items: list[dict], conditions: list[str]) -> list[dict]:
    """What Auto would do, from the same problems: keep the quick answer
    when its confidence is at least a threshold, else contemplate on top
    (the person waits for both, and pays for both). One row per
    contemplated condition and threshold; the thresholds are the quick
    answers' confidences that send a given share of them on."""
    quick = {(i["problem_set"], i["problem_index"]): i for i in items
             if i["condition"] == QUICK and i["message__confidence"] is not None}
    if not quick:
        return []
    ordered = sorted(i["message__confidence"] for i in quick.values())
    rows = []
    for name in [c for c in conditions if c != QUICK]:
        paired = [(quick[key], i) for i in items
                  if i["condition"] == name and (key := (i["problem_set"], i["problem_index"])) in quick]
        thresholds = dict.fromkeys(ordered[min(int(len(ordered) * share), len(ordered) - 1)] for share in AUTO_SHARES)
        rows += [_auto_row(name, threshold, paired) for threshold in thresholds]
    return rows


def _auto_row(name: str, threshold: float, paired: list[tuple[dict, dict]]) -> dict:
    def tokens(item: dict) -> int:
        return (item["prompt_tokens"] or 0) + (item["completion_tokens"] or 0)

    chosen, spent, waits = [], [], []
    for quick, deep in paired:
        unsure = quick["message__confidence"] < threshold
        chosen.append(bool((deep if unsure else quick)["correct"]))
        spent.append(tokens(quick) + (tokens(deep) if unsure else 0))
        waits.append(((quick["wall_ms"] or 0) + ((deep["wall_ms"] or 0) if unsure else 0)) / 1000)
    quick_tokens = fmean(tokens(q) for q, _ in paired) if paired else None
    quick_p50 = percentile([(q["wall_ms"] or 0) / 1000 for q, _ in paired], 0.5)
    gain = fmean(int(c) - int(bool(q["correct"])) for c, (q, _) in zip(chosen, paired)) if paired else None
    return {
        "condition": f"auto:{name}", "threshold": round(threshold, 4), "n": len(paired),
        "contemplated": _share(paired, lambda pair: pair[0]["message__confidence"] < threshold),
        "accuracy": fmean(chosen) if chosen else None, "vs_quick": gain,
        "interval": list(wilson(sum(chosen), len(chosen)) or []) or None,
        "tokens_ratio": fmean(spent) / quick_tokens if quick_tokens else None,
        "wait_ratio": percentile(waits, 0.5) / quick_p50 if quick_p50 else None,
    }


def _row(name: str, items: list[dict]) -> dict:
    n = len(items)
    right = sum(bool(i["correct"]) for i in items)
    interval = wilson(right, n)
    contemplated = [i for i in items if i["drafts"] is not None]
    walls = [i["wall_ms"] / 1000 for i in items if i["wall_ms"] is not None]
    by_set: dict[str, list[bool]] = defaultdict(list)
    for item in items:
        by_set[item["problem_set"]].append(bool(item["correct"]))
    return {
        "condition": name,
        "n": n,
        "correct": right,
        "accuracy": right / n if n else None,
        "interval": list(interval) if interval else None,
        "failed": sum(i["answer_status"] != "done" for i in items),
        "prompt_tokens": _mean(i["prompt_tokens"] for i in items),
        "completion_tokens": _mean(i["completion_tokens"] for i in items),
        "tokens": _mean((i["prompt_tokens"] or 0) + (i["completion_tokens"] or 0) for i in items) if items else None,
        "cost": _mean(i["cost"] for i in items),
        "p50_s": percentile(walls, 0.5),
        "p95_s": percentile(walls, 0.95),
        "mean_s": _mean(walls),
        "by_set": {name: sum(marks) / len(marks) for name, marks in sorted(by_set.items())},
        "unanimous_wrong": _share(contemplated, same_error),
        "missed_right_draft": _share(contemplated, missed_right_draft),
        "stopped_early": _share(contemplated, lambda i: bool(i["early_stop"])),
        **_unfit_shares(items),
    }


def _unfit_shares(items: list[dict]) -> dict:
    """Answers no one should be shown, as shares of all: naming the process,
    or degenerate (a runaway, or off the question), and either."""
    named, runaway, off = [], [], []
    for item in items:
        text, question = item.get("answer") or "", (item.get("problem") or {}).get("prompt", "")
        named.append(names_the_process(text, question))
        why = degeneracy(Problem.from_dict(item["problem"]), text) if item.get("problem") else ""
        runaway.append(bool(why) and why != OFF_QUESTION)
        off.append(why == OFF_QUESTION)
    either = [any(marks) for marks in zip(named, runaway, off, strict=True)]
    return {
        "names_the_process": _share_of(named), "runaway": _share_of(runaway), "off_question": _share_of(off),
        "degenerate": _share_of([r or o for r, o in zip(runaway, off, strict=True)]),
        "named_or_degenerate": _share_of(either),
    }


def _share_of(marks: list[bool]) -> float | None:
    return sum(marks) / len(marks) if marks else None


def same_error(item: dict) -> bool:
    """Every agent gave the same wrong answer: the error, repeated at a higher cost."""
    return bool(item["drafts"] and item["drafts_agree"] and not item["drafts_right"])


def missed_right_draft(item: dict) -> bool:
    """A right draft existed, and the merge did not pick it."""
    return bool(item["drafts_right"]) and item["correct"] is False


def _share(items: list[dict], test) -> float | None:
    return sum(map(test, items)) / len(items) if items else None


def _against_quick(row: dict, items: list[dict], quick: dict, quick_row: dict, seed: int) -> dict:
    pairs = [(bool(i["correct"]), bool(quick[key]["correct"]))
             for i in items if (key := (i["problem_set"], i["problem_index"])) in quick]
    differences = [int(mine) - int(theirs) for mine, theirs in pairs]
    wins = sum(d > 0 for d in differences)
    losses = sum(d < 0 for d in differences)
    gain = sum(differences) / len(differences) if differences else None
    extra_tokens = _difference(row["tokens"], quick_row["tokens"])
    extra_seconds = _difference(row["mean_s"], quick_row["mean_s"])
    interval = paired_interval(differences, seed=seed)
    return {
        "paired": len(pairs),
        "vs_quick": gain,
        "vs_quick_interval": list(interval) if interval else None,
        "wins": wins,
        "losses": losses,
        "mcnemar_p": mcnemar_p(wins, losses) if pairs else None,
        "gain_per_1k_tokens": gain / (extra_tokens / 1000) if gain is not None and extra_tokens else None,
        "gain_per_second": gain / extra_seconds if gain is not None and extra_seconds else None,
        "wait_ratio": (row["p50_s"] / quick_row["p50_s"]) if row["p50_s"] and quick_row["p50_s"] else None,
    }


def _difference(value: float | None, baseline: float | None) -> float | None:
    return value - baseline if value is not None and baseline is not None else None


def _percent(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "–"
    return f"{value * 100:+.1f}" if signed else f"{value * 100:.1f}"


def _interval(pair: list[float] | None, signed: bool = False) -> str:
    return f"[{_percent(pair[0], signed)}, {_percent(pair[1], signed)}]" if pair else ""


def _number(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def table(report: dict) -> str:
    """The report as the terminal shows it: one line per condition."""
    head = (f"{'condition':<14}{'n':>5}{'accuracy % [95% CI]':>26}{'vs quick, points [95% CI]':>30}"
            f"{'p':>7}{'tokens':>9}{'cost $':>11}{'p50 s':>8}{'p95 s':>8}{'/1k tok':>9}{'/s':>8}"
            f"{'same err':>10}{'missed':>8}{'process':>9}")
    lines = [head, "-" * len(head)]
    lines += [condition_line(row) for row in report["conditions"]]
    sets = sorted({name for row in report["conditions"] for name in row["by_set"]})
    if sets:
        lines += ["", "accuracy % by set: " + "  ".join(
            f"{row['condition']} " + " ".join(f"{name} {_percent(row['by_set'].get(name))}" for name in sets)
            for row in report["conditions"])]
    lines += ["", "Answers that name the process or are degenerate, % of answers: " + "; ".join(
        f"{row['condition']} {_percent(row.get('named_or_degenerate'))} (named {_percent(row.get('names_the_process'))}"
        f", runaways {_percent(row.get('runaway'))}, off the question {_percent(row.get('off_question'))})"
        for row in report["conditions"])]
    lines += auto_table(report.get("auto") or [])
    picks = budget_picks(report)
    if picks:
        lines += ["", "For a budget of tokens per problem (x quick's), the most accurate choice:"]
        lines += [f"  up to {pick['budget']:g}x: {pick['pick']} ({_percent(pick['accuracy'])}%, "
                  f"{pick['tokens_ratio']:.2f}x)" for pick in picks]
    lines += ["", "vs quick: accuracy points gained on the same problems; p: McNemar's exact test; "
              "/1k tok, /s: points gained per extra 1,000 tokens and per extra second of mean wait; "
              "same err: all agents gave the same wrong answer; missed: a right draft existed but the answer "
              "was wrong (both % of contemplated problems); process: answers that name drafts, agents, roles "
              "or the judge; runaways: a loop, a count or a run with no words (the runaway guard's test); "
              "off the question: no content word of the question, not the expected answer, and no answer of its kind "
              "(a number, an option)."]
    return "\n".join(lines)


def condition_line(row: dict) -> str:
    """One condition's line in the report's table."""
    versus = (f"{_percent(row.get('vs_quick'), True)} {_interval(row.get('vs_quick_interval'), True)}"
              if "vs_quick" in row else "")
    return (
        f"{row['condition']:<14}{row['n']:>5}"
        f"{_percent(row['accuracy']) + ' ' + _interval(row['interval']):>26}{versus:>30}"
        f"{_number(row.get('mcnemar_p'), 3) if 'mcnemar_p' in row else '':>7}"
        f"{_number(row['tokens']):>9}{_number(row['cost'], 5):>11}"
        f"{_number(row['p50_s'], 2):>8}{_number(row['p95_s'], 2):>8}"
        f"{_percent(row.get('gain_per_1k_tokens'), True) if 'vs_quick' in row else '':>9}"
        f"{_percent(row.get('gain_per_second'), True) if 'vs_quick' in row else '':>8}"
        f"{_percent(row['unanimous_wrong']):>10}{_percent(row['missed_right_draft']):>8}"
        f"{_percent(row['names_the_process']):>9}"
    )


def auto_table(rows: list[dict]) -> list[str]:
    """Auto, from the same problems: at each threshold on the quick answer's
    confidence, the share contemplated on top, accuracy, and the tokens and
    median wait against quick's."""
    if not rows:
        return []
    lines = ["", "Auto: contemplate only when the quick answer's confidence is below a threshold "
             "(same problems; tokens and p50 wait as multiples of quick's)",
             f"{'condition':<20}{'threshold':>10}{'contemplated':>14}{'accuracy % [95% CI]':>26}"
             f"{'vs quick':>10}{'tokens x':>10}{'wait x':>8}"]
    for row in rows:
        lines.append(f"{row['condition']:<20}{row['threshold']:>10.3f}{_percent(row['contemplated']) + '%':>14}"
                     f"{_percent(row['accuracy']) + ' ' + _interval(row['interval']):>26}"
                     f"{_percent(row['vs_quick'], True):>10}{_number(row['tokens_ratio'], 2):>10}"
                     f"{_number(row['wait_ratio'], 2):>8}")
    return lines
