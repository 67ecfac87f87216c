"""Stopping a small model that has lost its way.

SmolLM2-135M sometimes ends an answer with blank lines until the token cap,
or loops on one phrase ("la femme de France, la femme de France, ..."):
seconds of waiting for nothing. A guard watches the tokens and says when to
stop: at a third newline in a row, or when the same stretch of text has come
three times running. Pure; museapp/llm/local.py uses it.
"""

from __future__ import annotations

MAX_NEWLINES = 3  # Markdown needs at most one blank line (two newlines) in a row
MAX_PERIOD = 40  # the longest loop looked for, in tokens
MIN_LOOP_CHARS = 12  # shorter repeats ("!!!", "...", "| --- |") are fine


class RunawayGuard:
    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.newlines = 0

    def stops_at(self, delta: str) -> bool:
        """True when ``delta`` would continue a runaway: leave it out and stop."""
        if delta.strip():
            self.newlines = delta[len(delta.rstrip()):].count("\n")
        else:
            self.newlines += delta.count("\n")
            if self.newlines >= MAX_NEWLINES:
                return True
        self.tokens.append(delta)
        del self.tokens[:-3 * MAX_PERIOD]  # only the last three periods can show a loop
        return self._loops()

    def _loops(self) -> bool:
        tokens = self.tokens
        for period in range(1, min(MAX_PERIOD, len(tokens) // 3) + 1):
            if tokens[-1] != tokens[-1 - period]:  # per token, on the stream's path: skip the slices
                continue
            last = tokens[-period:]
            if (last == tokens[-2 * period:-period] == tokens[-3 * period:-2 * period]
                    and len("".join(last).strip()) >= MIN_LOOP_CHARS):
                return True
        return False
