"""Who the agents are: distinct roles and a temperature ladder, so parallel
drafts explore different paths instead of repeating one another."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from museapp.llm import local


@dataclass(frozen=True)
class Role:
    name: str
    brief: str


ROLES = [
    Role("Direct solver", "Answer the question directly and concisely, the way an expert would at first sight."),
    Role("Step-by-step reasoner", "Work through the problem carefully, step by step, checking each step before the next."),
    Role("Skeptic", "Look for the trap: the misreading, edge case or common mistake others are likely to make. "
                    "Check the obvious answer before trusting it."),
    Role("Explorer", "Solve it by a different route from the obvious one (another method, framing or analogy), "
                     "then compare with the obvious answer."),
    Role("Verifier", "Derive the answer, then verify it independently (plug it back in, estimate, or test a case)."),
    Role("Devil's advocate", "Argue against the most likely answer; keep it only if it survives."),
    Role("Simplifier", "Find the simplest correct answer and explain it in plain words."),
    Role("Domain expert", "Answer as a specialist in the question's field, naming the principle that decides it."),
]

ANSWER_LINE = (
    "If the question has a short answer (a number, yes/no, a name or a choice), end with a last line "
    "exactly of the form `Final answer: <short answer>`."
)

MIN_AGENTS, MAX_AGENTS = 2, 8


def agent_count(requested: int | None = None) -> int:
    """The team's size: ``requested`` or MUSE_AGENTS, within 2 to 8."""
    return min(max(int(requested or settings.MUSE_AGENTS), MIN_AGENTS), MAX_AGENTS)


def temperature_range(model: str = "") -> tuple[float, float]:
    """MUSE_AGENT_TEMPERATURES ("low,high"); unset, 0.2 to 1.0, or the
    offline model's own range (chosen with `manage.py evaluate`)."""
    chosen = settings.MUSE_AGENT_TEMPERATURES
    if len(chosen) == 2:
        low, high = sorted(float(value) for value in chosen)
        return low, high
    return local.AGENT_TEMPERATURES if local.is_local(model) else (0.2, 1.0)


def temperature_ladder(count: int, low: float = 0.2, high: float = 1.0) -> list[float]:
    """Evenly spaced from ``low`` to ``high``: the agents sample differently."""
    if count == 1:
        return [low]
    step = (high - low) / (count - 1)
    return [round(low + step * i, 2) for i in range(count)]


def temperatures(count: int, model: str = "") -> list[float]:
    """Each agent's temperature: with MUSE_AGENT_ANCHOR, the first agent
    answers greedily (temperature 0, as the offline model's quick answers
    do) and the rest explore on the ladder; else the ladder alone."""
    low, high = temperature_range(model)
    if settings.MUSE_AGENT_ANCHOR and count > 1:
        return [0.0, *temperature_ladder(count - 1, low, high)]
    return temperature_ladder(count, low, high)


def agent_models(count: int, default: str) -> list[str]:
    """``MUSE_AGENT_MODELS`` gives agents their own models (a mixture),
    cycling when shorter than the team; otherwise every agent uses the
    conversation's model."""
    listed = [m.strip() for m in settings.MUSE_AGENT_MODELS.split(",") if m.strip()]
    if not listed:
        return [default] * count
    return [listed[i % len(listed)] for i in range(count)]


def by_name(name: str) -> Role:
    return next(role for role in ROLES if role.name == name)


BRIEFS = ("role", "answer", "none")  # a role and the answer line; the answer line alone; the prompt alone


def briefs(model: str = "") -> str:
    """What agents are told beyond the system prompt (MUSE_AGENT_BRIEFS;
    unset: their role and the answer line, except the offline model, which
    repeats a role's brief instead of following it: the answer line alone,
    so its agents differ by temperature)."""
    chosen = settings.MUSE_AGENT_BRIEFS.lower()
    if chosen in BRIEFS:
        return chosen
    return local.AGENT_BRIEFS if local.is_local(model) else "role"


def system_prompt(role: Role, base: str, model: str = "") -> str:
    told = briefs(model)
    if told == "none":
        return base
    if told == "answer":
        return f"{base} {ANSWER_LINE}"
    return f"{base}\n\nYou are the {role.name} on a team answering together. {role.brief} {ANSWER_LINE}"
