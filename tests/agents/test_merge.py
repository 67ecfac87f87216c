"""The merge's pure parts (museapp/agents/merge.py, and the strategies' own
prompts and parsers): lettering drafts, the judge's prompts and replies, and
the vote. No database, no sockets."""

from __future__ import annotations

import pytest

from museapp.agents.answers import short_answer
from museapp.agents.merge import (
    Draft,
    best_draft,
    judge_fault,
    names_the_process,
    letter_drafts,
    locked_majority,
    tally,
    unanimous_answer,
    confident_vote,
    consensus,
    vote_winner,
)
from museapp.agents.strategies.select import Selection, parse_selection, select_prompt
from museapp.agents.strategies.synthesize import parse_relied_on, synthesize_prompt
from museapp.agents.roles import ROLES

QUESTION = "How many legs do three spiders have?"


def team(count: int = 4) -> list[Draft]:
    return [Draft(index=i, role=ROLES[i].name, text=f"Draft text number {i}.\nFinal answer: {i}") for i in range(count)]


def lettered(*letters: str) -> dict[str, Draft]:
    return {letter: Draft(index=i, role=ROLES[i].name, text=f"text {letter}") for i, letter in enumerate(letters)}


# --- lettering ------------------------------------------------------------------


def test_drafts_are_lettered_a_b_c_in_order():
    assert list(letter_drafts(team(4), seed=7)) == ["A", "B", "C", "D"]


def test_lettering_keeps_every_draft_exactly_once():
    drafts = team(5)
    assert sorted(letter_drafts(drafts, seed=3).values(), key=lambda d: d.index) == drafts


def test_the_same_seed_letters_the_same_way():
    assert letter_drafts(team(6), seed=42) == letter_drafts(team(6), seed=42)


def test_lettering_shuffles_the_drafts():
    orders = {tuple(d.index for d in letter_drafts(team(4), seed=seed).values()) for seed in range(20)}
    assert len(orders) > 1  # different seeds, different orders: not the input order every time


def test_lettering_leaves_the_callers_list_alone():
    drafts = team(4)
    letter_drafts(drafts, seed=1)
    assert [d.index for d in drafts] == [0, 1, 2, 3]


def test_a_team_of_eight_is_lettered_a_to_h():
    assert "".join(letter_drafts(team(8), seed=0)) == "ABCDEFGH"


# --- the judge's prompts ------------------------------------------------------------


@pytest.mark.parametrize("prompt", [select_prompt, synthesize_prompt])
def test_the_prompt_holds_the_question(prompt):
    assert QUESTION in prompt(QUESTION, letter_drafts(team(4), seed=5))


@pytest.mark.parametrize("prompt", [select_prompt, synthesize_prompt])
def test_the_prompt_shows_every_draft_under_its_letter(prompt):
    drafts = letter_drafts(team(4), seed=5)
    text = prompt(QUESTION, drafts)
    for letter, draft in drafts.items():
        assert f"### Draft {letter}\n{draft.text}" in text


@pytest.mark.parametrize("prompt", [select_prompt, synthesize_prompt])
def test_the_prompt_never_names_the_agents_roles(prompt):
    text = prompt(QUESTION, letter_drafts(team(8), seed=5)).lower()
    for role in ROLES:
        assert role.name.lower() not in text


@pytest.mark.parametrize("prompt", [select_prompt, synthesize_prompt])
def test_the_prompt_lists_drafts_in_letter_order(prompt):
    text = prompt(QUESTION, letter_drafts(team(4), seed=9))
    positions = [text.index(f"### Draft {letter}\n") for letter in "ABCD"]
    assert positions == sorted(positions)


def test_draft_text_is_trimmed_in_the_prompt():
    drafts = {"A": Draft(0, "Skeptic", "\n\n  Three spiders, 24 legs.  \n\n")}
    assert "### Draft A\nThree spiders, 24 legs.\n" in select_prompt(QUESTION, drafts)


def test_the_synthesis_prompt_asks_for_a_relied_on_first_line():
    assert "`Relied on: <letters>`" in synthesize_prompt(QUESTION, lettered("A", "B"))


def test_the_selection_prompt_asks_for_best_agree_and_reason():
    text = select_prompt(QUESTION, lettered("A", "B"))
    assert "Best: <letter>" in text and "Agree: " in text and "Reason: " in text


# --- Relied on: ...  -----------------------------------------------------------


def test_a_relied_on_line_names_its_letters():
    assert parse_relied_on("Relied on: A, C", lettered("A", "B", "C")) == ["A", "C"]


def test_relied_on_may_be_written_in_lowercase():
    assert parse_relied_on("relied on: B", lettered("A", "B", "C")) == ["B"]


def test_relied_on_letters_may_be_written_in_lowercase():
    # parse_selection accepts "agree: b, c"; the synthesis header should too.
    assert parse_relied_on("Relied on: a, c", lettered("A", "B", "C")) == ["A", "C"]


def test_relied_on_tolerates_extra_spaces_and_markdown():
    assert parse_relied_on("  **Relied on:**   A ,   B  ", lettered("A", "B", "C")) == ["A", "B"]


def test_relied_on_ignores_unknown_letters_and_repeats():
    assert parse_relied_on("Relied on: Z, B, B, A", lettered("A", "B")) == ["B", "A"]


@pytest.mark.parametrize("header", ["", None, "The answer is 24.", "Relying on nothing: A", "A, B"])
def test_a_header_that_is_not_relied_on_names_nothing(header):
    assert parse_relied_on(header, lettered("A", "B")) == []


# --- Best / Agree / Reason -----------------------------------------------------------


def test_a_well_formed_selection_is_read_whole():
    reply = "Best: B\nAgree: B, C\nReason: it counts eight legs per spider."
    assert parse_selection(reply, lettered("A", "B", "C")) == Selection("B", ["B", "C"], "it counts eight legs per spider.")


def test_a_selection_may_be_written_in_lowercase():
    reply = "best: draft c\nagree: a, c\nreason: shortest correct one"
    assert parse_selection(reply, lettered("A", "B", "C")) == Selection("C", ["A", "C"], "shortest correct one")


def test_a_selection_tolerates_extra_spaces():
    reply = "  Best :   A  \n  Agree :  A ,  B \n Reason :   checks units  "
    assert parse_selection(reply, lettered("A", "B")) == Selection("A", ["A", "B"], "checks units")


def test_the_best_draft_always_agrees_with_itself_and_comes_first():
    selection = parse_selection("Best: B\nAgree: A, C\nReason: x", lettered("A", "B", "C"))
    assert selection.agree == ["B", "A", "C"]


def test_without_an_agree_line_only_the_best_agrees():
    assert parse_selection("Best: A\nReason: fine", lettered("A", "B")).agree == ["A"]


def test_unknown_letters_in_agree_are_ignored():
    assert parse_selection("Best: A\nAgree: A, Q, B\nReason: x", lettered("A", "B")).agree == ["A", "B"]


def test_without_a_reason_line_the_reason_is_empty():
    assert parse_selection("Best: A\nAgree: A", lettered("A", "B")).reason == ""


def test_a_long_reason_is_cut_to_three_hundred_characters():
    assert len(parse_selection("Best: A\nReason: " + "x" * 1000, lettered("A")).reason) == 300


@pytest.mark.parametrize("reply", ["", None, "I like them all.", "Best: Z\nAgree: Z", "Best: none of them"])
def test_a_reply_without_a_known_best_letter_selects_nothing(reply):
    assert parse_selection(reply, lettered("A", "B", "C")) is None


# --- short answers ----------------------------------------------------------------------


@pytest.mark.parametrize(("one", "other"), [
    ("Final answer: 1,000", "Final answer: 1000.0"),
    ("Final answer: Yes.", "final answer: yes"),
    ("Final answer: true", "Final answer: Correct!"),
    ("Final answer: No", "FINAL ANSWER: false"),
    ("Final answer: $1 000", "Final answer: 1000"),
    ("Final answer: 0.50", "Final answer: .5"),
    ("Final answer:   The  Moon ", "Final answer: the moon."),
    ("**Final answer:** 24", "Final answer - 24"),
])
def test_equal_answers_written_differently_compare_equal(one, other):
    assert short_answer(one) == short_answer(other) is not None


def test_short_answers_read_as_the_vote_counts_them():
    assert [short_answer(f"Final answer: {a}") for a in ["1,000", "Yes.", "2.5", "Paris"]] == ["1000", "yes", "2.5", "paris"]


def test_the_last_final_answer_line_counts():
    text = "Final answer: 12\nWait, that is wrong.\nFinal answer: 24"
    assert short_answer(text) == "24"


def test_a_bold_answer_with_a_full_stop_is_still_a_number():
    assert short_answer("Three spiders have 24 legs.\nFinal answer: **24**.") == "24"


@pytest.mark.parametrize("text", ["", None, "Three spiders have 24 legs.", "Final answer:", "Final answer: " + "x" * 81])
def test_a_draft_without_a_usable_final_answer_has_no_short_answer(text):
    assert short_answer(text) is None


# --- the vote -------------------------------------------------------------------------------


def test_tally_counts_answers_and_skips_drafts_without_one():
    assert tally({0: "24", 1: "24", 2: None, 3: "18"}) == {"24": 2, "18": 1}


def test_the_most_common_answer_wins_the_vote():
    assert vote_winner({0: "24", 1: "18", 2: "24", 3: None}) == "24"


def test_a_tie_has_no_winner():
    assert vote_winner({0: "24", 1: "18", 2: "24", 3: "18", 4: "6"}) is None


@pytest.mark.parametrize("answers", [{}, {0: None, 1: None}])
def test_a_vote_without_answers_has_no_winner(answers):
    assert vote_winner(answers) is None


def test_a_lone_answer_wins_the_vote():
    assert vote_winner({0: None, 1: "yes"}) == "yes"


@pytest.mark.parametrize(("answers", "still_running"), [
    ({0: "24", 1: "24", 2: "24"}, 2),           # 3 against at most 0 + 2
    ({0: "24", 1: "24", 2: "24", 3: "18"}, 1),  # 3 against at most 1 + 1
    ({0: "24", 1: "24"}, 0),                    # nobody left to vote
    ({0: "24", 1: None, 2: "24"}, 1),           # a draft without an answer is no rival
])
def test_a_lead_the_agents_still_drafting_cannot_overturn_is_locked(answers, still_running):
    assert locked_majority(answers, still_running) == "24"


@pytest.mark.parametrize(("answers", "still_running"), [
    ({0: "24", 1: "24"}, 2),                    # two more votes for 18 would tie
    ({0: "24", 1: "24", 2: "18"}, 1),           # one more vote for 18 would tie
    ({0: "24", 1: "24", 2: "24", 3: "18"}, 2),  # two more votes for 18 would tie
    ({0: "24"}, 3),                             # a new answer could still win
    ({0: "24", 1: "18"}, 0),                    # a tie at the end stays a tie
])
def test_a_lead_that_can_still_be_caught_is_not_locked(answers, still_running):
    assert locked_majority(answers, still_running) is None


@pytest.mark.parametrize("still_running", [0, 3])
def test_no_answers_lock_nothing(still_running):
    assert locked_majority({0: None, 1: None}, still_running) is None


# --- unanimity and consensus -------------------------------------------------


def drafts_saying(*texts: str) -> list[Draft]:
    return [Draft(index=i, role=ROLES[i].name, text=text) for i, text in enumerate(texts)]


def test_drafts_that_all_give_one_short_answer_are_unanimous():
    drafts = drafts_saying("It is Paris.\nFinal answer: Paris", "Paris, of course.\nFinal answer: paris.")
    assert unanimous_answer(drafts) == "paris"


@pytest.mark.parametrize("texts", [
    ("Final answer: Paris", "Final answer: Lyon"),
    ("Final answer: Paris", "I think it is Paris."),
    ("Final answer: Paris",),
])
def test_a_dissent_a_missing_short_answer_or_a_lone_draft_is_not_unanimous(texts):
    assert unanimous_answer(drafts_saying(*texts)) is None


def test_consensus_takes_the_majority_answer_and_its_most_typical_draft():
    drafts = drafts_saying(
        "Three plus four makes seven.\nFinal answer: 7",
        "Three plus four is seven.\nFinal answer: 7",
        "Three and four is seven.\nFinal answer: 7",
        "Three plus four is eight.\nFinal answer: 8",
    )
    picked = consensus(drafts)
    assert picked.answer == "7"
    assert [d.index for d in picked.agreeing] == [0, 1, 2]
    assert picked.chosen.index == 1  # the one most like drafts 0 and 2
    assert picked.counts == {"7": 3, "8": 1}


def test_consensus_without_short_answers_picks_the_medoid():
    drafts = drafts_saying(
        "The sky looks blue because air scatters blue light most.",
        "Blue light is scattered most by the air, so the sky looks blue.",
        "Because of dragons.",
    )
    picked = consensus(drafts)
    assert picked.answer is None and picked.chosen.index in (0, 1) and picked.agreeing == [picked.chosen]


def test_consensus_is_not_moved_by_the_order_of_the_drafts():
    texts = ["Final answer: 7", "Seven it is.\nFinal answer: 7", "Final answer: 8", "So 7.\nFinal answer: 7"]
    forward = consensus(drafts_saying(*texts)).chosen.text
    backward = consensus(list(reversed(drafts_saying(*texts)))).chosen.text
    assert forward == backward


def sure(confidences: list[float | None], *texts: str) -> list[Draft]:
    return [Draft(i, ROLES[i].name, text, confidence) for i, (text, confidence) in enumerate(zip(texts, confidences))]


def test_one_sure_draft_outweighs_two_unsure_ones():
    drafts = sure([-0.05, -2.5, -2.0], "Final answer: 12", "Final answer: 9", "Maybe.\nFinal answer: 9")

    picked = confident_vote(drafts)

    # exp(-0.05) = 0.95 against exp(-2.5) + exp(-2.0) = 0.22
    assert picked.answer == "12" and picked.chosen.index == 0 and picked.counts == {"12": 1, "9": 2}


def test_agreeing_drafts_add_up_and_the_surest_of_them_is_kept():
    drafts = sure([-0.9, -0.4, -0.2, -0.6], "Final answer: 9", "So 9.\nFinal answer: 9", "Final answer: 12",
                  "Nine.\nFinal answer: 9")

    picked = confident_vote(drafts)

    assert picked.answer == "9" and [d.index for d in picked.agreeing] == [0, 1, 3] and picked.chosen.index == 1


def test_without_short_answers_the_surest_draft_wins():
    drafts = sure([-1.0, -0.1, -0.5], "Blue, by scattering.", "The air scatters blue light most.", "Dragons.")

    picked = confident_vote(drafts)

    assert picked.answer is None and picked.chosen.index == 1 and picked.agreeing == [picked.chosen]


def test_a_draft_without_confidence_leaves_the_choice_to_consensus():
    assert confident_vote(sure([-0.1, None], "Final answer: 1", "Final answer: 2")) is None


def test_a_weighed_majority_locks_only_when_the_agents_left_could_not_outweigh_it():
    answers = {0: "9", 1: "9", 2: "12"}

    assert locked_majority(answers, 1) is None  # 2 against 1, one more agent: could tie
    assert locked_majority(answers, 1, {0: 0.9, 1: 0.9, 2: 0.1}) == "9"  # 1.8 against 0.1 + at most 1
    assert locked_majority(answers, 1, {0: 0.3, 1: 0.3, 2: 0.2}) is None  # 0.6 against 0.2 + 1


# --- what a judge's text must never be ----------------------------------------------------


@pytest.mark.parametrize("text", [
    "Draft D is right: Rome.",
    "As drafts A and C say, it is Rome.",
    "Both answers agree, but Answer B is clearer: Rome.",
    "Following draft B, the capital is Rome.",
    "Explorer: Rome is the capital.",
    "The Skeptic's point stands: Rome.",
    "Relied on: A, C\n\nRome.",
    "The other agents are wrong: it is Rome.",
    "### A\nThe capital is Rome.\n\n### B\nThe capital is Rome.",
    "## Draft C:\nRome.",
    "### A, C, D, E\n\nRome.",
    "Mercury.\n\n### D, E, F, G, H, I, J, K, L, M",
    "A: Rome is the capital.\nB: Milan is the capital.",
    "**A)** Rome.\n**C)** Rome.",
])
def test_a_text_that_names_the_drafts_or_roles_names_the_process(text):
    assert names_the_process(text, "What is the capital of Italy?")


@pytest.mark.parametrize(("text", "question"), [
    ("Rome is the capital of Italy.", "What is the capital of Italy?"),
    ("Draft a letter to your landlord first.", "How do I ask for a repair?"),
    ("The answer is B) Red.", "Which is warm?\nA) Blue\nB) Red\nC) Green\nD) Grey\nAnswer with the letter."),
    ("Most novels go through three drafts.", "How many drafts does a novel need?"),
    ("An explorer of the Arctic, Amundsen was first.", "Who reached the South Pole first?"),
    ("### Italy\nRome is the capital.\n\n### Answer\nRome.", "What is the capital of Italy?"),
    ("A. Lincoln was the 16th president.", "Who was the 16th US president?"),
    ("A) Blue is cold.\nB) Red is warm.", "Which is warm?\nA) Blue\nB) Red\nC) Green\nD) Grey"),
])
def test_ordinary_answers_do_not_name_the_process(text, question):
    assert not names_the_process(text, question)


@pytest.mark.parametrize(("text", "fault"), [
    ("Draft A and Draft C both say Rome.", "named the drafts"),
    ("Rome. " + ", ".join(str(n) for n in range(2126297, 2126340)), "ran away (a run with no words)"),
    (" ".join(f"Step {n}: Rome." for n in range(1, 40)), "ran away (a count)"),
    ("", "was empty"),
    ("Rome is the capital of Italy.", ""),
])
def test_a_judges_text_is_unfit_when_it_names_the_drafts_runs_away_or_is_empty(text, fault):
    assert judge_fault(text, "What is the capital of Italy?") == fault


def test_the_best_draft_is_the_surest_of_those_the_judge_relied_on():
    drafts = [Draft(0, "Direct solver", "Rome.\nFinal answer: Rome", -0.1),
              Draft(1, "Skeptic", "Milan.\nFinal answer: Milan", -0.05),
              Draft(2, "Explorer", "It is Rome.\nFinal answer: Rome", -0.01),
              Draft(3, "Verifier", "Turin.\nFinal answer: Turin", -3.0)]

    chosen, how = best_draft(drafts, "What is the capital of Italy?", ranked=[0, 2, 3])

    assert chosen.index == 2 and how == "the confidence vote's pick among the drafts the judge relied on"


def test_the_best_draft_never_is_one_that_names_the_process_or_runs_away():
    drafts = [Draft(0, "Direct solver", "Draft B says Rome.\nFinal answer: Rome", -0.01),
              Draft(1, "Skeptic", "Rome, " + ", ".join(str(n) for n in range(1000, 1100)), -0.01),
              Draft(2, "Explorer", "Rome.\nFinal answer: Rome", -2.0)]

    chosen, _ = best_draft(drafts, "What is the capital of Italy?", ranked=[])

    assert chosen.index == 2


def test_without_confidences_the_best_draft_is_the_most_typical():
    drafts = [Draft(0, "Direct solver", "Rome.\nFinal answer: Rome"), Draft(1, "Skeptic", "Milan.\nFinal answer: Milan"),
              Draft(2, "Explorer", "Rome.\nFinal answer: Rome")]

    chosen, how = best_draft(drafts, "What is the capital of Italy?", ranked=[])

    assert chosen.text.startswith("Rome") and how == "the most typical of the drafts"
