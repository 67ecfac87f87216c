"""What a person types, made into words both databases search for safely."""

from museapp.search.query import MAX_TERMS, fts5_query, terms_of
from museapp.search.snippets import highlighted, marked_html


def test_words_are_kept_and_syntax_dropped():
    assert terms_of('"Hello" NEAR(world*) title:x -y') == ["hello", "near", "world", "title", "x", "y"]


def test_each_word_once_and_only_so_many():
    assert terms_of("a a b") == ["a", "b"]
    assert len(terms_of(" ".join(f"w{i}" for i in range(50)))) == MAX_TERMS


def test_not_text_is_no_words():
    assert terms_of(None) == [] and terms_of(["x"]) == []


def test_fts5_query_quotes_every_word_and_the_last_is_a_prefix():
    assert fts5_query(["near", "kett"]) == '"near" "kett"*'
    assert fts5_query(["near", "ke"]) == '"near" "ke"'  # too short to expand


def test_marks_are_escaped_text_around():
    assert marked_html("<b>\ue000x\ue001</b>") == "&lt;b&gt;<mark>x</mark>&lt;/b&gt;"


def test_a_title_is_marked_case_insensitively():
    assert highlighted("Kettle & kettles", ["kettle"]) == "<mark>Kettle</mark> &amp; <mark>kettle</mark>s"
