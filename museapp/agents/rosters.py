"""Agents from several models: a roster names each agent's model, written
``2xA+2xB`` (A and B: models on offer, ``MUSE_MODELS``). The strategy menu
offers rosters; `manage.py evaluate` takes them as conditions
(``consensus:2xA+2xB``). Pure functions over the models on offer."""

from __future__ import annotations

import re

from museapp.agents.roles import MAX_AGENTS, MIN_AGENTS
from museapp.llm.config import ModelChoice, available_models

PART = re.compile(r"^\s*(\d+)\s*[x×]\s*(\S+?)\s*$")


class InvalidRoster(ValueError):
    """A roster Muse will not run; the message says why, to the person."""


def roster_models(roster: str, offered: list[ModelChoice] | None = None) -> list[str]:
    """Each agent's model, in order; InvalidRoster for a malformed roster, a
    model not on offer, or a team outside 2 to 8 agents."""
    offered_ids = {choice.id for choice in (available_models() if offered is None else offered)}
    models: list[str] = []
    for part in roster.split("+"):
        found = PART.match(part)
        if found is None:
            raise InvalidRoster(f"{roster!r} is not a roster: write it as 2xMODEL+2xMODEL.")
        count, model = int(found.group(1)), found.group(2)
        if model not in offered_ids:
            raise InvalidRoster(f"{model} is not one of the models on offer.")
        models += [model] * count
    if not MIN_AGENTS <= len(models) <= MAX_AGENTS:
        raise InvalidRoster(f"A team has {MIN_AGENTS} to {MAX_AGENTS} agents, not {len(models)}.")
    return models


def roster_choices(count: int, offered: list[ModelChoice] | None = None) -> list[tuple[str, str]]:
    """The menu's rosters for a team of ``count``: every model alone, then the
    first model half and half with each other one; none when only one model
    is on offer (every agent uses the chat's model)."""
    offered = available_models() if offered is None else offered
    if len(offered) < 2:
        return []
    choices = [(f"{count}x{m.id}", f"Agents: {count} × {m.label}") for m in offered]
    first, half = offered[0], count // 2
    choices += [(f"{half}x{first.id}+{count - half}x{other.id}",
                 f"Agents: {half} × {first.label} + {count - half} × {other.label}") for other in offered[1:]]
    return choices
