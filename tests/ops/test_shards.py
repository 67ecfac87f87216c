"""The ring that places stream state on several Redis servers."""

import pytest

from museapp.ops.shards import Ring

NAMES = [f"msg-{i}" for i in range(20_000)]


def test_one_server_holds_everything():
    assert {Ring(["redis://a"]).url_for(name) for name in NAMES[:100]} == {"redis://a"}


def test_a_name_always_lands_on_the_same_server_whatever_order_the_servers_are_listed_in():
    forward, backward = Ring(["redis://a", "redis://b", "redis://c"]), Ring(["redis://c", "redis://b", "redis://a"])
    assert all(forward.url_for(name) == backward.url_for(name) for name in NAMES[:2000])


@pytest.mark.parametrize("servers", [2, 3, 4, 8])
def test_each_server_holds_about_its_share(servers):
    ring = Ring([f"redis://r{i}" for i in range(servers)])
    counts = ring.split(NAMES, str)
    assert len(counts) == servers
    for names in counts.values():
        assert abs(len(names) / len(NAMES) - 1 / servers) < 0.35 / servers


def test_adding_a_server_moves_only_the_names_it_takes():
    three = Ring(["redis://a", "redis://b", "redis://c"])
    four = Ring(["redis://a", "redis://b", "redis://c", "redis://d"])
    moved = [name for name in NAMES if three.url_for(name) != four.url_for(name)]
    assert all(four.url_for(name) == "redis://d" for name in moved), "nothing moves between the old servers"
    assert 0.15 < len(moved) / len(NAMES) < 0.35


def test_a_ring_needs_a_server():
    with pytest.raises(ValueError):
        Ring([])
