"""Auto, worked out from an evaluation's paired answers: below a threshold on
the quick answer's confidence the contemplated answer counts (and both are
paid for and waited on); at or above it, the quick answer alone."""

from museapp.evals.report import auto_rows, budget_picks


def item(condition: str, index: int, *, correct: bool, confidence: float | None = None, tokens: int = 100,
         wall_ms: float = 1000) -> dict:
    return {"condition": condition, "problem_set": "facts", "problem_index": index, "correct": correct,
            "prompt_tokens": tokens, "completion_tokens": 0, "wall_ms": wall_ms, "message__confidence": confidence}


def test_auto_contemplates_only_the_least_confident_quick_answers_and_counts_both_costs():
    items = [
        item("quick", 0, correct=False, confidence=-2.0), item("consensus:4", 0, correct=True, tokens=400, wall_ms=2000),
        item("quick", 1, correct=True, confidence=-0.1), item("consensus:4", 1, correct=False, tokens=400, wall_ms=2000),
        item("quick", 2, correct=True, confidence=-0.2), item("consensus:4", 2, correct=True, tokens=400, wall_ms=2000),
        item("quick", 3, correct=False, confidence=-0.3), item("consensus:4", 3, correct=False, tokens=400, wall_ms=2000),
    ]

    rows = auto_rows(items, ["quick", "consensus:4"])

    # A quarter of the quick answers (the one at -2.0) sits below the 25% threshold, -0.3.
    [quarter] = [r for r in rows if r["contemplated"] == 0.25]
    assert quarter["condition"] == "auto:consensus:4" and quarter["threshold"] == -0.3
    assert quarter["accuracy"] == 0.75 and quarter["vs_quick"] == 0.25  # problem 0 is won, nothing is lost
    assert quarter["tokens_ratio"] == (4 * 100 + 400) / 400
    assert quarter["wait_ratio"] == 1.0  # three of four still wait one second


def test_without_confidences_there_is_no_auto_to_work_out():
    assert auto_rows([item("quick", 0, correct=True), item("vote:4", 0, correct=True)], ["quick", "vote:4"]) == []


def test_each_budget_gets_the_most_accurate_choice_that_fits_it():
    report = {
        "conditions": [{"condition": "quick", "accuracy": 0.5, "tokens": 100},
                       {"condition": "consensus:4", "accuracy": 0.6, "tokens": 500}],
        "auto": [{"condition": "auto:consensus:4", "threshold": -0.5, "accuracy": 0.55, "tokens_ratio": 1.4}],
    }

    picks = {pick["budget"]: pick["pick"] for pick in budget_picks(report)}

    assert picks == {1.0: "quick", 1.5: "auto:consensus:4 below -0.500", 2.0: "auto:consensus:4 below -0.500",
                     3.0: "auto:consensus:4 below -0.500", 6.0: "consensus:4"}
