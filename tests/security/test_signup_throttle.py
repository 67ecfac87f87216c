"""One client address may create MUSE_SIGNUPS_PER_IP accounts (5 an hour)
per window; past that the sign-up page says so and creates nothing."""

import logging

import pytest
from django.contrib.auth import get_user_model

from museapp.ops import ratelimit
from museapp.ops.checks import rates_are_well_formed

pytestmark = pytest.mark.django_db

PASSWORD = "violet kettle 7391"
TOO_MANY = "Too many accounts were created from your address. Try again in"


@pytest.fixture(autouse=True)
def quick_password_hashing_and_the_default_limit(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MUSE_SIGNUPS_PER_IP = "5/hour"  # the default; the test run raises it for its browser tests


def sign_up(client, username, address="192.0.2.10", password=PASSWORD, confirmation=PASSWORD):
    """A fresh browser each time: a logged-in person is sent away from sign-up."""
    client.logout()
    return client.post("/accounts/signup/", {"username": username, "password1": password,
                                             "password2": confirmation}, REMOTE_ADDR=address)


def accounts() -> set[str]:
    return set(get_user_model().objects.values_list("username", flat=True))


def sign_up_many(client, count, address="192.0.2.10", prefix="throwaway"):
    for number in range(count):
        response = sign_up(client, f"{prefix}{number}", address)
        assert response.status_code == 302, response.content.decode()


def test_the_sixth_account_from_one_address_in_an_hour_is_refused(client):
    sign_up_many(client, 5)

    response = sign_up(client, "sixth")

    assert response.status_code == 200
    assert f"{TOO_MANY} 60 minutes." in response.content.decode()
    assert "sixth" not in accounts()
    assert "_auth_user_id" not in client.session


def test_a_form_with_errors_uses_no_slot(client, user):
    sign_up(client, "mismatch", confirmation=PASSWORD + "x")
    sign_up(client, "weak", password="12345678", confirmation="12345678")
    sign_up(client, user.username)  # taken
    sign_up(client, "")

    sign_up_many(client, 5)

    assert {f"throwaway{n}" for n in range(5)} <= accounts()
    assert not {"mismatch", "weak"} & accounts()


def test_a_refused_form_with_errors_shows_its_errors_not_the_limit(client):
    sign_up_many(client, 5)

    response = sign_up(client, "mismatch", confirmation=PASSWORD + "x")

    assert "The two password fields didn’t match." in response.content.decode()
    assert TOO_MANY not in response.content.decode()


def test_another_address_is_unaffected(client):
    sign_up_many(client, 5, address="192.0.2.10")

    assert sign_up(client, "elsewhere", address="198.51.100.7").status_code == 302
    assert "elsewhere" in accounts()


def test_the_limit_comes_from_the_environment(client, settings):
    settings.MUSE_SIGNUPS_PER_IP = "2/min"
    sign_up_many(client, 2)

    response = sign_up(client, "third")

    assert "Try again in 1 minute." in response.content.decode()
    assert "third" not in accounts()


def test_off_disables_the_limit(client, settings):
    settings.MUSE_SIGNUPS_PER_IP = "off"

    sign_up_many(client, 8)

    assert {f"throwaway{n}" for n in range(8)} <= accounts()


def test_when_redis_is_unreachable_people_can_still_sign_up(client, settings, caplog):
    settings.STREAM_REDIS_URLS = ["unix:///nonexistent/muse-redis.sock"]

    with caplog.at_level(logging.WARNING, logger=ratelimit.__name__):
        sign_up_many(client, 7)

    assert "letting the request through" in caplog.text


def test_a_malformed_limit_is_reported_by_the_system_check(settings):
    settings.MUSE_SIGNUPS_PER_IP = "lots"

    [error] = rates_are_well_formed(None)

    assert error.id == "muse.E001" and "MUSE_SIGNUPS_PER_IP='lots'" in error.msg
