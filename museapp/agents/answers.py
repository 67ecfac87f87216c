"""Reading a short answer out of a text, and how alike two texts are.

Shared by the merge (the vote, unanimity, the consensus medoid) and by the
evaluation (museapp/evals grades answers with the same extraction), so what
counts as "the same answer" is decided in one place. Pure functions.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

FINAL_ANSWER = re.compile(r"\bfinal answer\W{0,3}[:\-]\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)
YES = {"yes", "y", "true", "correct"}
NO = {"no", "n", "false", "incorrect"}
NUMBER = re.compile(r"(?<![\w.])-?\d[\d,]*(?:\.\d+)?(?![\w])")
WORD = re.compile(r"\w+")
MAX_SHORT_ANSWER = 80


def short_answer(text: str) -> str | None:
    """The text's last `Final answer: ...`, normalised so equal answers
    compare equal ("1,000" == "1000.0", "Yes." == "yes"); None when it has none."""
    found = FINAL_ANSWER.findall(text or "")
    if not found:
        return None
    answer = _unwrapped(found[-1])
    if not answer or len(answer) > MAX_SHORT_ANSWER:
        return None
    return normalise(answer)


def _unwrapped(answer: str) -> str:
    """Markup and punctuation peeled off in any order: "**24**." -> "24"."""
    answer, previous = answer.strip(), None
    while answer != previous:
        previous, answer = answer, answer.strip("*_`$ ").rstrip(".!").strip()
    return answer


def normalise(answer: str) -> str:
    lowered = answer.lower()
    if lowered in YES:
        return "yes"
    if lowered in NO:
        return "no"
    number = as_number(lowered.replace(" ", ""))
    if number is not None:
        return number
    return " ".join(lowered.split())


def as_number(text: str) -> str | None:
    """"1,000" and "1000.0" -> "1000"; None when ``text`` is not a number."""
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")):
        return None
    return str(int(value)) if value.is_integer() else repr(round(value, 9))


def last_number(text: str) -> str | None:
    """The last number written in ``text``, normalised."""
    found = NUMBER.findall(text or "")
    return as_number(found[-1]) if found else None


def folded(text: str) -> str:
    """Lower case, accents and punctuation gone, spaces single: for matching
    names ("São Paulo" == "sao paulo")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(WORD.findall(plain.lower()))


def contains_phrase(text: str, phrase: str) -> bool:
    """``phrase`` appears in ``text`` as whole words, after folding both."""
    needle = folded(phrase)
    return bool(needle) and re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", folded(text)) is not None


# Words too common to say what a text is about ("What is the capital of ...").
STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have he her his how i if in into is it
its me my no not of on or our she so than that the their them then there these they this those to was we were
what when where which who whom whose why will with would you your yes
""".split())


def content_words(text: str) -> set[str]:
    """The folded words that say what a text is about: every word but the
    commonest, and every number; a plural as its singular ("months" is
    "month"), crudely: a final s dropped from words of four letters or more."""
    return {word[:-1] if len(word) > 3 and word.endswith("s") else word
            for word in folded(text).split() if word not in STOPWORDS}


# --- similarity: the consensus medoid ---------------------------------------------


def token_f1(first: str, second: str) -> float:
    """Bag-of-words F1 of two texts (SQuAD's answer overlap), on folded words."""
    a, b = Counter(folded(first).split()), Counter(folded(second).split())
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(b.values()), common / sum(a.values())
    return 2 * precision * recall / (precision + recall)


def medoid(texts: list[str]) -> int:
    """The index of the text most like the others (highest mean token F1):
    minimum Bayes risk under that similarity. Ties go to the earliest."""
    if len(texts) < 2:
        return 0
    scores = [sum(token_f1(text, other) for j, other in enumerate(texts) if j != i) for i, text in enumerate(texts)]
    return max(range(len(texts)), key=lambda i: (scores[i], -i))
