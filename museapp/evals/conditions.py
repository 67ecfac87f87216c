"""The conditions an evaluation compares: `quick` (one model call), or a
merge strategy with a team size, `consensus:4`, or with a roster of models
on offer, `consensus:2xA+2xB` (museapp/agents/rosters.py)."""

from __future__ import annotations

from dataclasses import dataclass

from museapp.agents import rosters, strategies
from museapp.agents.roles import MAX_AGENTS, MIN_AGENTS

QUICK = "quick"


@dataclass(frozen=True)
class Condition:
    name: str
    strategy: str = ""  # "" for a quick answer
    agents: int = 0
    roster: str = ""  # each agent's model; "": the chat's model for all

    @property
    def contemplate(self) -> bool:
        return bool(self.strategy)


def parse_condition(text: str) -> Condition:
    name = text.strip().lower()
    if name == QUICK:
        return Condition(QUICK)
    strategy, _, count = text.strip().partition(":")
    strategy = strategy.lower()
    if strategy not in strategies.STRATEGIES:
        raise ValueError(f"unknown condition {text!r}: use quick, or one of {', '.join(sorted(strategies.NAMES))} "
                         f"with a team size, e.g. consensus:4")
    if count and not count.strip().isdigit():
        return _with_roster(text, strategy, count.strip())
    try:
        agents = int(count or 4)
    except ValueError:
        raise ValueError(f"{text!r}: the team size after ':' must be a number") from None
    if not MIN_AGENTS <= agents <= MAX_AGENTS:
        raise ValueError(f"{text!r}: a team has {MIN_AGENTS} to {MAX_AGENTS} agents")
    return Condition(f"{strategy}:{agents}", strategy, agents)


def _with_roster(text: str, strategy: str, roster: str) -> Condition:
    try:
        models = rosters.roster_models(roster)
    except rosters.InvalidRoster as refused:
        raise ValueError(f"{text!r}: {refused}") from None
    return Condition(f"{strategy}:{roster}", strategy, len(models), roster)


def parse_conditions(spec: str) -> list[Condition]:
    """Quick always comes first: every other condition is compared with it."""
    conditions = list({c.name: c for c in map(parse_condition, filter(str.strip, spec.split(",")))}.values())
    if not conditions:
        raise ValueError("name at least one condition, e.g. quick,consensus:4")
    quick = [c for c in conditions if c.name == QUICK]
    return quick + [c for c in conditions if c.name != QUICK]
