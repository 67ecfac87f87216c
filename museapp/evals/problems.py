"""The problem sets: questions with known answers, made offline from a seed
(arithmetic) or drawn from small files shipped with Muse (facts, multiple
choice), so nothing is downloaded and nothing is in a model's training data
by way of a public benchmark. The same set, seed and size give the same
problems in the same order."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Problem:
    set: str
    index: int
    prompt: str
    accepted: tuple[str, ...]  # the right answer's forms (a number, names, or a letter and its option)
    kind: str  # "number", "text" or "choice": how museapp/evals/grading.py reads an answer
    options: dict[str, str] = field(default_factory=dict)  # choice: letter -> option

    def as_dict(self) -> dict:
        return {"set": self.set, "index": self.index, "prompt": self.prompt, "accepted": list(self.accepted),
                "kind": self.kind, "options": self.options}

    @classmethod
    def from_dict(cls, data: dict) -> "Problem":
        return cls(data["set"], data["index"], data["prompt"], tuple(data["accepted"]), data["kind"],
                   dict(data.get("options") or {}))


NAMES = ["Ana", "Ben", "Chloé", "Dev", "Emma", "Farid", "Grace", "Hugo", "Iris", "Jonas", "Kemi", "Leo"]
THINGS = ["apples", "marbles", "stickers", "books", "pencils", "coins", "shells", "cards"]


def _arithmetic(rng: random.Random) -> tuple[str, int]:
    name, thing = rng.choice(NAMES), rng.choice(THINGS)
    a, b = rng.randint(2, 60), rng.randint(2, 40)
    small, factor = rng.randint(2, 12), rng.randint(2, 9)
    forms = [
        (f"What is {a} + {b}?", a + b),
        (f"What is {a + b} - {b}?", a),
        (f"What is {small} × {factor}?", small * factor),
        (f"{name} has {a} {thing} and gets {b} more. How many {thing} does {name} have now?", a + b),
        (f"{name} had {a + b} {thing} and gave away {b}. How many {thing} are left?", a),
        (f"A box holds {small} {thing}. How many {thing} are in {factor} boxes?", small * factor),
        (f"{small * factor} {thing} are shared equally among {factor} children. How many does each child get?",
         small),
    ]
    return rng.choice(forms)


def arithmetic(n: int, seed: int) -> list[Problem]:
    rng = random.Random(f"arithmetic:{seed}")
    problems = []
    for index in range(n):
        prompt, answer = _arithmetic(rng)
        problems.append(Problem("arithmetic", index, prompt, (str(answer),), "number"))
    return problems


@cache
def _shipped(name: str) -> list[dict]:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def _drawn(name: str, n: int, seed: int) -> list[dict]:
    """``n`` of the shipped items (all of them, at most), in a seeded order."""
    items = _shipped(name)
    return random.Random(f"{name}:{seed}").sample(items, min(n, len(items)))


def facts(n: int, seed: int, name: str = "facts") -> list[Problem]:
    return [Problem(name, index, item["q"], tuple(item["a"]), "text")
            for index, item in enumerate(_drawn(name, n, seed))]


def recall(n: int, seed: int) -> list[Problem]:
    """More easy facts, written after the offline model's settings were
    chosen on `facts`: a check that the choice did not just fit that set."""
    return facts(n, seed, name="recall")


def choice(n: int, seed: int) -> list[Problem]:
    rng = random.Random(f"choice-options:{seed}")
    problems = []
    for index, item in enumerate(_drawn("choice", n, seed)):
        options = [item["right"], *item["wrong"]]
        rng.shuffle(options)
        lettered = dict(zip(string.ascii_uppercase, options, strict=False))
        right = next(letter for letter, option in lettered.items() if option == item["right"])
        listing = "\n".join(f"{letter}) {option}" for letter, option in lettered.items())
        prompt = f"{item['q']}\n{listing}\nAnswer with the letter of the right option."
        problems.append(Problem("choice", index, prompt, (right,), "choice", lettered))
    return problems


SETS: dict[str, Callable[[int, int], list[Problem]]] = {
    "arithmetic": arithmetic, "facts": facts, "choice": choice, "recall": recall,
}


def problem_set(name: str, *, n: int, seed: int) -> list[Problem]:
    if name not in SETS:
        raise ValueError(f"unknown problem set {name!r}: choose from {', '.join(SETS)}")
    return SETS[name](n, seed)
