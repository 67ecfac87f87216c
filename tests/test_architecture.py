"""The structure keeps its shape: imports point down the layers (the
contracts in .importlinter), no module imports itself round a cycle, no
function runs past 40 lines, and every import placed inside a function says
why. bench/structure.py prints the same figures."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
LONGEST_FUNCTION = 40


def structure():
    spec = importlib.util.spec_from_file_location("structure", ROOT / "bench" / "structure.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("structure", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_layers_keep_their_import_contracts(monkeypatch):
    monkeypatch.chdir(ROOT)

    assert lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True) == 0


def test_no_module_is_part_of_an_import_cycle():
    module = structure()
    graph, _, _ = module.read_tree()

    assert module.cycles(graph) == []


def test_no_function_is_longer_than_forty_lines():
    _, functions, _ = structure().read_tree()

    too_long = [f"{f.module}.{f.name}: {f.length} lines" for f in functions if f.length > LONGEST_FUNCTION]
    assert too_long == []


def test_every_import_inside_a_function_states_its_reason():
    _, _, local_imports = structure().read_tree()

    unexplained = [f"{imp.module}:{imp.line} imports {imp.imported}" for imp in local_imports
                   if not re.sub(r"^noqa(:\s*[A-Z0-9, ]+)?\s*-?\s*", "", imp.reason)]
    assert unexplained == []


def test_no_template_comment_spans_lines():
    """Django's {# #} ends at the line's end: one spread over lines is printed
    on the page. Longer remarks use {% comment %}."""
    opened = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "{#" in line and "#}" not in line.split("{#", 1)[1]
    ]

    assert opened == []
