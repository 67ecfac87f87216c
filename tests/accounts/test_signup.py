"""Signing up, logging in and logging out."""

import re

import pytest
from django.contrib.auth import get_user_model

from museapp.chat.models import Conversation

pytestmark = pytest.mark.django_db

PASSWORD = "violet kettle 7391"


def logged_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def test_the_signup_page_asks_for_a_name_and_a_password_twice(client):
    response = client.get("/accounts/signup/")

    assert response.status_code == 200
    for field in ('name="username"', 'name="password1"', 'name="password2"'):
        assert field.encode() in response.content


def test_it_creates_the_user_logs_them_in_and_opens_the_chat(client):
    response = client.post(
        "/accounts/signup/", {"username": "grace", "password1": PASSWORD, "password2": PASSWORD}
    )

    user = get_user_model().objects.get(username="grace")
    assert user.check_password(PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user_id(client) == str(user.pk)

    chat = client.get("/")
    conversation = Conversation.objects.get(user=user)
    assert chat["Location"] == f"/c/{conversation.pk}/"
    assert client.get(chat["Location"]).status_code == 200


def test_mismatched_passwords_show_an_error_and_create_nothing(client):
    response = client.post(
        "/accounts/signup/", {"username": "grace", "password1": PASSWORD, "password2": PASSWORD + "x"}
    )

    assert response.status_code == 200
    assert "The two password fields didn’t match." in response.content.decode()
    assert not get_user_model().objects.filter(username="grace").exists()
    assert logged_in_user_id(client) is None


def test_a_taken_username_is_refused(client, user):
    response = client.post(
        "/accounts/signup/", {"username": user.username, "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 200
    assert b"A user with that username already exists." in response.content
    assert get_user_model().objects.filter(username=user.username).count() == 1


@pytest.mark.parametrize("username", ["muse-evaluation", "MUSE-Evaluation", "admin", "Muse", "muse_bot"])
def test_a_name_reserved_for_muse_itself_is_refused(client, username):
    response = client.post(
        "/accounts/signup/", {"username": username, "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 200
    assert b"That username is reserved for Muse itself. Please choose another." in response.content
    assert not get_user_model().objects.filter(username__iexact=username).exists()
    assert logged_in_user_id(client) is None


def test_a_name_that_only_begins_like_muse_is_anyones(client):
    client.post("/accounts/signup/", {"username": "museum-guide", "password1": PASSWORD, "password2": PASSWORD})

    assert get_user_model().objects.filter(username="museum-guide").exists()


def test_a_weak_password_is_refused(client):
    response = client.post(
        "/accounts/signup/", {"username": "grace", "password1": "12345678", "password2": "12345678"}
    )

    assert response.status_code == 200
    assert b"This password is too common." in response.content
    assert not get_user_model().objects.filter(username="grace").exists()


def test_a_logged_in_person_is_sent_from_signup_to_the_chat(client, user):
    client.force_login(user)

    response = client.get("/accounts/signup/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_login_works_and_opens_the_chat(client, user):
    response = client.post("/accounts/login/", {"username": "ada", "password": "correct horse 42"})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user_id(client) == str(user.pk)


def test_login_returns_to_the_page_that_asked_for_it(client, user):
    conversation = Conversation.objects.create(user=user)
    asked = client.get(f"/c/{conversation.pk}/")["Location"]

    response = client.post(asked, {"username": "ada", "password": "correct horse 42"})

    assert response["Location"] == f"/c/{conversation.pk}/"


def test_a_wrong_password_does_not_log_in(client, user):
    response = client.post("/accounts/login/", {"username": "ada", "password": "wrong"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password." in response.content
    assert logged_in_user_id(client) is None


def test_logout_is_a_post_and_returns_to_login(client, user):
    client.force_login(user)

    assert client.get("/accounts/logout/").status_code == 405
    assert logged_in_user_id(client) == str(user.pk)

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert logged_in_user_id(client) is None
    assert client.get("/")["Location"].startswith("/accounts/login/")


def test_the_password_rules_are_shown_up_front_where_the_field_points(client):
    page = client.get("/accounts/signup/").content.decode()

    described = re.search(r'name="password1"[^>]*aria-describedby="([^"]+)"', page) or \
        re.search(r'aria-describedby="([^"]+)"[^>]*name="password1"', page)
    assert described, "the password field points at its rules"
    assert f'id="{described[1]}"' in page
    assert "at least 8 characters" in page


def test_a_refused_sign_up_keeps_the_passwords_typed_and_is_never_cached(client, user):
    response = client.post("/accounts/signup/", {"username": user.username, "password1": PASSWORD,
                                                 "password2": PASSWORD})

    page = response.content.decode()
    assert "already exists" in page
    assert page.count(f'value="{PASSWORD}"') == 2
    assert "no-store" in response["Cache-Control"]
