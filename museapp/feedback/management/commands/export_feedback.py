from django.core.management.base import BaseCommand

from museapp.feedback.export import export_lines


class Command(BaseCommand):
    help = "Export rated answers (or, with --pairs, preference pairs) as JSON Lines or CSV."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
        parser.add_argument("--pairs", action="store_true", help="preference pairs (prompt, chosen, rejected)")
        parser.add_argument("--output", "-o", help="file to write (default: standard output)")

    def handle(self, *args, format, pairs, output, **options):
        if not output:  # self.stdout, not sys.stdout: call_command(stdout=...) can capture it
            for line in export_lines(fmt=format, pairs=pairs):
                self.stdout.write(line, ending="")
            return
        with open(output, "w", encoding="utf-8", newline="") as out:
            for line in export_lines(fmt=format, pairs=pairs):
                out.write(line)
        self.stderr.write(f"wrote {output}")
