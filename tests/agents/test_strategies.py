"""The merge strategies' registry (museapp/agents/strategies/): a strategy is
one module, and the model's choices, the strategy menu, the error for an
unknown strategy and the evaluations' conditions all read the registry."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.utils.text import capfirst

from museapp.agents import strategies
from museapp.agents.models import Contemplation
from museapp.evals.conditions import parse_condition
from tests.markup import parse_html

STRATEGY_MODULE = '''
from museapp.agents.strategies.base import MergeStrategy


async def run(plan):
    raise NotImplementedError


STRATEGY = MergeStrategy(name="{name}", label="Ponder", description="a test's own strategy", uses_judge=False,
                         run=run, menu_position={position})
'''


def test_the_registry_holds_the_five_strategies_in_the_menus_order():
    assert strategies.NAMES == ("synthesize", "vote", "select", "consensus", "confidence")


def test_a_module_that_defines_a_strategy_is_found_by_itself(tmp_path, monkeypatch):
    package = tmp_path / "more_strategies"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "ponder.py").write_text(STRATEGY_MODULE.format(name="ponder", position=5))
    (package / "helpers.py").write_text("SHARED = 1\n")  # no STRATEGY: not a strategy
    monkeypatch.syspath_prepend(str(tmp_path))

    found = strategies.discover("more_strategies", [str(package)])

    assert list(found) == ["ponder"] and found["ponder"].description == "a test's own strategy"


def test_two_modules_with_one_strategy_name_are_refused(tmp_path, monkeypatch):
    package = tmp_path / "clashing_strategies"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text(STRATEGY_MODULE.format(name="ponder", position=1))
    (package / "second.py").write_text(STRATEGY_MODULE.format(name="ponder", position=2))
    monkeypatch.syspath_prepend(str(tmp_path))

    with pytest.raises(ImproperlyConfigured, match="share a name"):
        strategies.discover("clashing_strategies", [str(package)])


def test_the_contemplations_strategy_choices_are_the_registrys():
    field = Contemplation._meta.get_field("strategy")

    assert field.choices == [(each.name, each.label) for each in strategies.STRATEGIES.values()]


@pytest.mark.django_db
def test_the_migrations_record_the_registrys_choices():
    call_command("makemigrations", "agents", check=True, dry_run=True, verbosity=0)  # exits 1 when one is missing


@pytest.mark.django_db
def test_every_registered_strategy_is_in_the_pages_menu_by_its_label_with_its_description(client, user, conversation):
    client.force_login(user)

    page = parse_html(client.get(f"/c/{conversation.pk}/").content.decode())

    options = page.one("select", id="strategy-select").all("option")
    assert [(option.attrs["value"], option.text, option.attrs["title"]) for option in options] == [
        (each.name, each.label, capfirst(each.description)) for each in strategies.STRATEGIES.values()]


@pytest.mark.django_db
def test_an_unknown_strategy_is_refused_naming_every_registered_one(client, user, conversation):
    client.force_login(user)

    response = client.post(f"/c/{conversation.pk}/preferences/", {"strategy": "ponder"})

    assert response.status_code == 400
    assert response.content.decode() == "Unknown merge strategy: choose synthesize, vote, select, consensus or confidence."
    assert all(name in response.content.decode() for name in strategies.NAMES)
    conversation.refresh_from_db()
    assert conversation.merge_strategy == ""


def test_every_registered_strategy_is_an_evaluation_condition():
    assert [parse_condition(f"{name}:3").strategy for name in strategies.NAMES] == list(strategies.NAMES)
