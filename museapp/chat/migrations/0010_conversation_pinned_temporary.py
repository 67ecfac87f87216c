from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('chat', '0009_message_tree'),
    ]

    operations = [
        migrations.AddField(
            model_name='conversation',
            name='is_temporary',
            field=models.BooleanField(default=False, help_text='a Temporary chat: unlisted, and deleted a day after its last message'),
        ),
        migrations.AddField(
            model_name='conversation',
            name='pinned_at',
            field=models.DateTimeField(blank=True, help_text='pinned to the top of the list; blank: not pinned', null=True),
        ),
        migrations.AddIndex(
            model_name='conversation',
            index=models.Index(condition=models.Q(('is_temporary', True)), fields=['updated_at'], name='conversation_temporary'),
        ),
    ]
