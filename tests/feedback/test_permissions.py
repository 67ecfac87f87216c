"""Insights and exports show every person's prompts and answers, so they need
the feedback.export_feedback permission: the "Muse analysts" group and
superusers have it; staff rights alone do not."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from museapp.feedback.models import ANALYSTS_GROUP, EXPORT_PERMISSION

pytestmark = pytest.mark.django_db

PAGES = ["/insights/", "/insights/export/?format=csv", "/insights/export/?format=jsonl&pairs=1", "/insights/evals/"]


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(username="hopper", password="x", is_staff=True)


@pytest.mark.parametrize("path", PAGES)
def test_staff_without_the_permission_get_403(client, staff, path):
    client.force_login(staff)

    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_people_without_the_permission_get_403(client, user, path):
    client.force_login(user)

    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_a_muse_analyst_without_staff_rights_gets_200(client, analyst, path):
    client.force_login(analyst)

    assert not analyst.is_staff
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_a_superuser_gets_200(client, django_user_model, path):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "x"))

    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
def test_a_logged_out_visitor_is_sent_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/insights/")


def test_the_migration_made_the_analysts_group_with_the_permission(django_user_model):
    group = Group.objects.get(name=ANALYSTS_GROUP)
    member = django_user_model.objects.create_user(username="lovelace", password="x")
    member.groups.add(group)

    granted = [(p.content_type.app_label, p.codename) for p in group.permissions.all()]
    assert granted == [("feedback", "export_feedback")]
    assert django_user_model.objects.get(pk=member.pk).has_perm(EXPORT_PERMISSION)


def migrate_feedback_to(name: str) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([("feedback", name)])


@pytest.fixture
def feedback_migrated_back():
    """Leave the feedback app at its latest migration afterwards, whatever
    the test migrated it to: later tests need every column."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes("feedback"))


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("feedback_migrated_back")
def test_the_migration_makes_the_permission_itself_and_undoes_both():
    migrate_feedback_to("0001_initial")
    assert not Group.objects.filter(name=ANALYSTS_GROUP).exists()
    assert not Permission.objects.filter(codename="export_feedback").exists()

    migrate_feedback_to("0002_export_permission_and_analysts_group")  # as on a fresh database: no permission yet
    group = Group.objects.get(name=ANALYSTS_GROUP)
    assert [p.codename for p in group.permissions.all()] == ["export_feedback"]
