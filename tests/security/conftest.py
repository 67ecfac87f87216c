import pytest

from museapp.ops.redis_client import redis_key, servers, sync_client_at


def forget_counters() -> None:
    for client in map(sync_client_at, servers()):
        for pattern in (redis_key("rate", "*"), redis_key("login", "*"), redis_key("signup", "*")):
            keys = list(client.scan_iter(match=pattern))
            if keys:
                client.delete(*keys)


@pytest.fixture(autouse=True)
def fresh_counters():
    """Each test starts with no rate-limit, log-in or sign-up counts, and
    leaves none behind (the other tests log in and sign up from 127.0.0.1 too)."""
    forget_counters()
    yield
    forget_counters()
