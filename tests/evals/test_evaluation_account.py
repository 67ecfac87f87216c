"""The account `manage.py evaluate` asks as: nobody can sign up as it or log
in to it, and the evaluation refuses an account of its name it did not make."""

import pytest
from django.contrib.auth import get_user_model

from museapp.chat.models import Preferences
from museapp.evals.services import EVALUATION_USERNAME, EvaluationAccountTaken, evaluation_account

pytestmark = pytest.mark.django_db

PASSWORD = "violet kettle 7391"


def test_it_is_made_inactive_without_a_usable_password_and_the_login_page_refuses_it(client):
    account = evaluation_account()

    assert not account.is_active and not account.has_usable_password()
    for password in ("", "!", PASSWORD):
        response = client.post("/accounts/login/", {"username": EVALUATION_USERNAME, "password": password})
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session
    assert b"Please enter a correct username and password." in response.content


def test_the_same_account_is_used_run_after_run():
    assert evaluation_account() == evaluation_account()
    assert get_user_model().objects.filter(username=EVALUATION_USERNAME).count() == 1


def test_nobody_can_sign_up_under_its_name_in_any_case(client):
    client.post("/accounts/signup/", {"username": EVALUATION_USERNAME.upper(), "password1": PASSWORD,
                                      "password2": PASSWORD})

    assert not get_user_model().objects.filter(username__iexact=EVALUATION_USERNAME).exists()


def test_an_account_of_its_name_someone_signed_up_as_is_refused_and_left_alone(django_user_model):
    taken = django_user_model.objects.create_user(username=EVALUATION_USERNAME, password=PASSWORD)

    with pytest.raises(EvaluationAccountTaken, match="usable password"):
        evaluation_account()

    taken.refresh_from_db()
    assert taken.is_active and taken.check_password(PASSWORD)


@pytest.mark.parametrize(("change", "reason"), [
    ({"is_active": True}, "it is active"),
    ({"is_staff": True}, "staff account"),
    ({"is_superuser": True}, "staff account"),
])
def test_an_account_of_its_name_that_is_not_as_the_evaluation_makes_it_is_refused(change, reason):
    account = evaluation_account()
    get_user_model().objects.filter(pk=account.pk).update(**change)

    with pytest.raises(EvaluationAccountTaken, match=reason):
        evaluation_account()


def test_custom_instructions_on_its_account_are_refused_since_they_would_reach_every_prompt():
    account = evaluation_account()
    Preferences.objects.create(user=account, answer_style="Always answer 42.")

    with pytest.raises(EvaluationAccountTaken, match="custom instructions"):
        evaluation_account()
