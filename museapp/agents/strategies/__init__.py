"""The merge strategies: one module each in this package, found here by
themselves. A module is a strategy when it defines ``STRATEGY`` (a
MergeStrategy: its name, its words for the menu, whether it calls a judge,
and its run function). Everything that names strategies reads this registry:
the model's choices, the menu, the settings' check, the evaluations'
conditions and the insights' labels. README "Adding a merge strategy"."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable

from django.core.exceptions import ImproperlyConfigured

from museapp.agents.strategies.base import UNANIMOUS, MergeStrategy


def spoken(words: list[str], conjunction: str = "or") -> str:
    """"a, b or c"."""
    return f"{', '.join(words[:-1])} {conjunction} {words[-1]}" if len(words) > 1 else "".join(words)


def discover(package: str, path: Iterable[str]) -> dict[str, MergeStrategy]:
    """Every strategy that a module of ``package`` (found on ``path``)
    defines, by name, in menu order."""
    modules = [importlib.import_module(f"{package}.{found.name}") for found in pkgutil.iter_modules(path)]
    found = sorted((module.STRATEGY for module in modules if hasattr(module, "STRATEGY")),
                   key=lambda strategy: strategy.menu_position)
    by_name = {strategy.name: strategy for strategy in found}
    if len(by_name) < len(found):
        raise ImproperlyConfigured(f"two merge strategies share a name: {[strategy.name for strategy in found]}")
    return by_name


STRATEGIES: dict[str, MergeStrategy] = discover(__name__, __path__)
NAMES = tuple(STRATEGIES)
UNKNOWN_STRATEGY = f"Unknown merge strategy: choose {spoken(list(NAMES))}."
NO_JUDGE = f"No judge ({spoken([s.name for s in STRATEGIES.values() if not s.uses_judge] + [UNANIMOUS])})"


def choices() -> list[tuple[str, str]]:
    """The model field's choices: adding a strategy needs only ``makemigrations``."""
    return [(strategy.name, strategy.label) for strategy in STRATEGIES.values()]


def label_of(name: str) -> str:
    """A strategy's label; a name no longer registered (or "unanimous") as it is, capitalised."""
    strategy = STRATEGIES.get(name)
    return strategy.label if strategy else (name or "?").capitalize()

