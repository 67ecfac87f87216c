"""Too many failed log-ins for one username, or from one address, and the
form stops checking passwords for a while."""

import logging

import pytest

from museapp.ops import ratelimit

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse 42"  # the `user` fixture's
TOO_MANY = "Too many failed log-in attempts. Try again in"


@pytest.fixture(autouse=True)
def quick_password_hashing(settings):
    """Every attempt here checks a password: keep each well under a second."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def log_in(client, username, password, address="192.0.2.10", path="/accounts/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=address)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, username, times, address="192.0.2.10", path="/accounts/login/"):
    for _ in range(times):
        response = log_in(client, username, "wrong", address, path)
        assert TOO_MANY not in response.content.decode()


def test_five_failures_lock_the_username_even_against_the_right_password(client, user):
    fail(client, "ada", 5)

    response = log_in(client, "ada", PASSWORD)

    assert response.status_code == 200
    assert "Too many failed log-in attempts. Try again in 15 minutes." in response.content.decode()
    assert not logged_in(client)


def test_four_failures_still_let_the_right_password_in(client, user):
    fail(client, "ada", 4)

    assert log_in(client, "ada", PASSWORD).status_code == 302
    assert logged_in(client)


def test_the_username_is_counted_case_insensitively(client, user):
    fail(client, "ADA", 3)
    fail(client, "Ada", 2)

    assert TOO_MANY in log_in(client, "ada", PASSWORD).content.decode()


def test_a_locked_username_does_not_have_its_password_checked(client, user, monkeypatch):
    fail(client, "ada", 5)
    checked = []
    monkeypatch.setattr("django.contrib.auth.forms.authenticate", lambda *a, **kw: checked.append(kw))

    log_in(client, "ada", PASSWORD)

    assert checked == []


def test_a_locked_username_stays_locked_from_another_address(client, user):
    fail(client, "ada", 5, address="192.0.2.10")

    assert TOO_MANY in log_in(client, "ada", PASSWORD, address="198.51.100.7").content.decode()


def test_other_usernames_are_not_locked_by_one(client, user, other_user):
    fail(client, "ada", 5)

    assert log_in(client, "mallory", "correct horse 43").status_code == 302


def test_twenty_failures_from_one_address_lock_every_username_from_it(client, user):
    for number in range(20):
        fail(client, f"guess{number}", 1, address="203.0.113.9")

    assert TOO_MANY in log_in(client, "ada", PASSWORD, address="203.0.113.9").content.decode()
    assert log_in(client, "ada", PASSWORD, address="203.0.113.10").status_code == 302


def test_a_successful_log_in_clears_the_usernames_count(client, user):
    fail(client, "ada", 4)
    assert log_in(client, "ada", PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    fail(client, "ada", 4)

    assert log_in(client, "ada", PASSWORD).status_code == 302


def test_the_limits_come_from_the_environment(client, user, settings):
    settings.MUSE_LOGIN_ATTEMPTS = "2/min"
    fail(client, "ada", 2)

    assert "Try again in 1 minute." in log_in(client, "ada", PASSWORD).content.decode()


def test_off_disables_the_throttle(client, user, settings):
    settings.MUSE_LOGIN_ATTEMPTS = "off"
    settings.MUSE_LOGIN_ATTEMPTS_PER_IP = "off"
    fail(client, "ada", 25)

    assert log_in(client, "ada", PASSWORD).status_code == 302


def test_the_admin_log_in_page_is_throttled_too(client, django_user_model):
    django_user_model.objects.create_superuser("root", "root@example.com", PASSWORD)
    fail(client, "root", 5, path="/admin/login/")

    response = log_in(client, "root", PASSWORD, path="/admin/login/")

    assert TOO_MANY in response.content.decode()
    assert not logged_in(client)


def test_when_redis_is_unreachable_people_can_still_log_in(client, user, settings, caplog):
    settings.STREAM_REDIS_URLS = ["unix:///nonexistent/muse-redis.sock"]

    with caplog.at_level(logging.WARNING, logger=ratelimit.__name__):
        fail(client, "ada", 6)
        assert log_in(client, "ada", PASSWORD).status_code == 302

    assert "letting the request through" in caplog.text
