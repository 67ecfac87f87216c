"""The permission that opens insights and exports, and the "Muse analysts"
group that holds it.

Django creates a model's permissions after all migrations have run
(post_migrate), so on a fresh database the permission does not exist yet here:
this migration creates it (and the content type) itself, as Django would.
Names are spelled out rather than imported: a migration keeps working when
the code it was written against changes.
"""

from django.db import migrations

APP_LABEL = "feedback"
MODEL = "rating"
CODENAME = "export_feedback"
PERMISSION_NAME = "Can export feedback and see insights"
GROUP = "Muse analysts"


def create_analysts_group(apps, schema_editor):
    db = schema_editor.connection.alias
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")

    content_type, _ = ContentType.objects.using(db).get_or_create(app_label=APP_LABEL, model=MODEL)
    permission, _ = Permission.objects.using(db).get_or_create(
        content_type=content_type, codename=CODENAME, defaults={"name": PERMISSION_NAME},
    )
    group, _ = Group.objects.using(db).get_or_create(name=GROUP)
    group.permissions.add(permission)


def remove_analysts_group(apps, schema_editor):
    db = schema_editor.connection.alias
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")

    Group.objects.using(db).filter(name=GROUP).delete()
    Permission.objects.using(db).filter(content_type__app_label=APP_LABEL, codename=CODENAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("feedback", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="rating",
            options={"permissions": [("export_feedback", "Can export feedback and see insights")]},
        ),
        migrations.RunPython(create_analysts_group, remove_analysts_group),
    ]
