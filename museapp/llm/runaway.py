"""Stopping a small model that has lost its way.

SmolLM2-135M sometimes ends an answer with blank lines until the token cap,
loops on one phrase ("la femme de France, la femme de France, ..."), or
counts ("2126297, 2126298, 2126299, ..."): seconds of waiting for nothing.
A guard watches the tokens and says when to stop:

- at a third newline in a row;
- when the same stretch of text has come three times running (a loop);
- when a stretch of 24 characters or more has come six times running but
  for its digits (a count: "step 7: add one. step 8: add one. ");
- after 120 printed characters with no word among them (no two letters
  in a row: numbers, symbols and single letters that grow without
  repeating, "2126297, 2126298, ..." or "D, E, F, G, ..."). A table or a
  list of numbers that long is cut too: the price of stopping the runs
  this model writes.

Each token costs a few comparisons (at most ``MAX_PERIOD`` per check, most
skipped at the first). ``degeneracy`` asks the same of a finished text, and
also whether it ends where a guard would have stopped it (the guard leaves
out only the token that completes a runaway). Pure; museapp/llm/local.py
uses the guard, the merge and the evaluation ``degeneracy``.
"""

from __future__ import annotations

import re

MAX_NEWLINES = 3  # Markdown needs at most one blank line (two newlines) in a row
MAX_PERIOD = 40  # the longest loop looked for, in tokens
MIN_LOOP_CHARS = 12  # shorter repeats ("!!!", "...", "| --- |") are fine
LOOP_REPEATS = 3
# The same stretch but for its digits: longer and more often, as short lists of years or steps are fine.
COUNT_REPEATS, MIN_COUNT_CHARS = 6, 24
WORDLESS_CHARS = 120  # printed characters in a row without a word (two letters in a row)
WORDLESS_SLACK = 20  # a finished text ending in this many fewer was stopped there

LOOP, COUNT, WORDLESS, BLANK_LINES = "a loop", "a count", "a run with no words", "blank lines"
_DIGITS_AS_ZERO = str.maketrans("123456789", "000000000")
_TOKENS = re.compile(r"\s*(?:\d|[^\W\d_]+|[^\w\s]+|_+)|\s+")


class RunawayGuard:
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.shapes: list[str] = []  # the tokens with every digit a 0: a count repeats here
        self.newlines = 0
        self.wordless = 0  # printed characters since the last word
        self.letters = 0  # letters in a row so far
        self.reason = ""  # why it stopped, once it has

    def stops_at(self, delta: str) -> bool:
        """True when ``delta`` would continue a runaway: leave it out and stop."""
        if delta.strip():
            self.newlines = delta[len(delta.rstrip()):].count("\n")
        else:
            self.newlines += delta.count("\n")
            if self.newlines >= MAX_NEWLINES:
                return self._stop(BLANK_LINES)
        self._count_wordless(delta)
        if self.wordless >= WORDLESS_CHARS:
            return self._stop(WORDLESS)
        self.tokens.append(delta)
        self.shapes.append(delta.translate(_DIGITS_AS_ZERO))
        del self.tokens[:-LOOP_REPEATS * MAX_PERIOD]  # only the last periods can show a loop
        del self.shapes[:-COUNT_REPEATS * MAX_PERIOD]
        if _loops(self.tokens, LOOP_REPEATS):
            return self._stop(LOOP)
        if _loops(self.shapes, COUNT_REPEATS, MIN_COUNT_CHARS):
            return self._stop(COUNT)
        return False

    def ends_in_runaway(self) -> str:
        """Why the text so far ends as a stopped runaway does ("" if not):
        a loop or a count one repeat short, or nearly as long a stretch with
        no letter."""
        if self.wordless >= WORDLESS_CHARS - WORDLESS_SLACK:
            return WORDLESS
        if _ends_periodic(self.tokens, LOOP_REPEATS):
            return LOOP
        if _ends_periodic(self.shapes, COUNT_REPEATS, MIN_COUNT_CHARS):
            return COUNT
        return ""

    def _stop(self, reason: str) -> bool:
        self.reason = reason
        return True

    def _count_wordless(self, delta: str) -> None:
        if len(delta) > 1 and delta.isalpha():  # most tokens: a word, or a word's next letters
            self.wordless, self.letters = 0, self.letters + len(delta)
            return
        for char in delta:
            if char.isalpha():
                self.letters += 1
                self.wordless = 0 if self.letters > 1 else self.wordless + 1
            else:
                self.letters = 0
                if not char.isspace():
                    self.wordless += 1


def _loops(tokens: list[str], repeats: int, min_chars: int = MIN_LOOP_CHARS) -> bool:
    """The last tokens are one stretch (of at least ``min_chars``) said ``repeats`` times running."""
    for period in range(1, min(MAX_PERIOD, len(tokens) // repeats) + 1):
        if tokens[-1] != tokens[-1 - period]:  # per token, on the stream's path: skip the slices
            continue
        last = tokens[-period:]
        if (len("".join(last).strip()) >= min_chars
                and all(tokens[-(k + 1) * period:-k * period] == last for k in range(1, repeats))):
            return True
    return False


def _ends_periodic(tokens: list[str], repeats: int, min_chars: int = MIN_LOOP_CHARS) -> bool:
    """The tokens end in one stretch said ``repeats`` - 1 times and begun
    once more: where a guard stops a loop (its tokens may have been cut
    differently from ours, so no more is asked)."""
    for period in range(1, MAX_PERIOD + 1):
        needed = (repeats - 1) * period + 1
        if len(tokens) < needed:
            break
        if (tokens[-1] == tokens[-1 - period] and len("".join(tokens[-period:]).strip()) >= min_chars
                and all(tokens[-i] == tokens[-i - period] for i in range(1, needed - period + 1))):
            return True
    return False


def degeneracy(text: str) -> str:
    """Why a finished text is a runaway ("" when it is not): what the guard
    stops, or a text that ends where it would have stopped it."""
    guard = RunawayGuard()
    for token in _TOKENS.findall(text or ""):
        if guard.stops_at(token) and guard.reason != BLANK_LINES:  # blank lines are trimmed once saved
            return guard.reason
    return guard.ends_in_runaway()
