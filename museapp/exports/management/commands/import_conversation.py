import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from museapp.exports.importing import conversation_import


class Command(BaseCommand):
    help = "Import a conversation exported as JSON (Export as JSON) into a person's account."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the exported .json file")
        parser.add_argument("--user", required=True, help="the username of the person who gets it")

    def handle(self, *args, file, user, **options):
        try:
            person = get_user_model().objects.get_by_natural_key(user)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No person is called {user!r}.") from None
        try:
            with open(file, encoding="utf-8") as exported:
                data = json.load(exported)
            conversation = conversation_import(user=person, data=data)
        except (OSError, ValueError) as refused:  # ImportRefused and JSON errors are ValueErrors
            raise CommandError(str(refused)) from None
        self.stdout.write(f"Imported “{conversation.display_title}” as conversation {conversation.pk}, "
                          f"{conversation.messages.count()} messages.")
