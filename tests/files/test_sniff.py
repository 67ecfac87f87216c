"""What a file is comes from its first bytes, not its name; names are shown
without path parts or control characters."""

import pytest

from museapp.files.sniff import Refused, clean_name, sniff
from tests.files.pdfs import PNG, pdf


def test_a_pdf_is_a_pdf_whatever_its_name():
    assert sniff(pdf("hello"), "notes.txt").kind == "pdf"


def test_a_png_named_like_text_is_an_image():
    assert (sniff(PNG, "table.csv").kind, sniff(PNG, "table.csv").media_type) == ("image", "image/png")


def test_text_keeps_its_kind_from_its_extension():
    assert sniff(b"a,b\n1,2\n", "table.csv").media_type == "text/csv"
    assert sniff(b"# Title\n", "README.md").media_type == "text/markdown"
    assert sniff("naïve café\n".encode(), "notes").media_type == "text/plain"


def test_text_cut_inside_a_character_is_still_text():
    assert sniff("é".encode() * 10 + "é".encode()[:1], "log.txt").kind == "text"


def test_a_zip_named_like_text_is_refused_by_what_it_is():
    with pytest.raises(Refused, match="report.txt looks like application/zip"):
        sniff(b"PK\x03\x04" + b"\x00" * 100, "report.txt")


def test_binary_that_is_no_known_kind_is_refused():
    with pytest.raises(Refused, match="not a kind of file Muse can read"):
        sniff(bytes(range(256)), "data.bin")


@pytest.mark.parametrize("given, shown", [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\ada\\report.pdf", "report.pdf"),
    ("<img src=x onerror=alert(1)>.txt", "<img src=x onerror=alert(1)>.txt"),  # escaped where shown
    ("bad\x00name\x1b.txt", "badname.txt"),
    (".hidden", "hidden"),
    ("", "file"),
    ("a" * 300 + ".txt", "a" * 110 + "….txt"),
])
def test_names_lose_their_path_and_control_characters(given, shown):
    assert clean_name(given) == shown
