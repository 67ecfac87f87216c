"""People who may see insights and exports."""

import pytest
from django.contrib.auth.models import Group, Permission

from museapp.feedback.models import ANALYSTS_GROUP


@pytest.fixture
def analysts(django_user_model):
    """The group migration 0002 made. A transactional test's flush empties
    auth_group (Django re-creates only permissions), so it is made again here."""
    group, _ = Group.objects.get_or_create(name=ANALYSTS_GROUP)
    group.permissions.add(Permission.objects.get(content_type__app_label="feedback", codename="export_feedback"))
    return group


@pytest.fixture
def analyst(django_user_model, analysts):
    """A person in "Muse analysts", without staff rights."""
    person = django_user_model.objects.create_user(username="grace", password="x")
    person.groups.add(analysts)
    return person
