"""Print the structure's figures: import cycles between museapp's modules,
imports placed inside functions (and the reasons given), and the longest
functions. Reads the code as text (ast); runs nothing of it.

    python bench/structure.py [--all]
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "museapp"


@dataclass
class Function:
    module: str
    name: str
    line: int
    length: int


@dataclass
class LocalImport:
    module: str
    line: int
    imported: str
    reason: str  # the comment on the import's line, or on the line above


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def imported_modules(node: ast.AST, module: str, known: set[str]) -> list[str]:
    """The museapp modules an import statement names (a name imported from a
    package counts as its submodule when that exists)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = module.split(".")[: -node.level] if not module_is_package(module, known) else (
                module.split(".")[: len(module.split(".")) - node.level + 1])
            base = ".".join([*anchor, base] if base else anchor)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
    found = []
    for name in names:
        while name and name not in known:
            name = name.rpartition(".")[0]
        if name.startswith("museapp") and name != module:
            found.append(name)
    return found


def module_is_package(module: str, known: set[str]) -> bool:
    return any(other.startswith(module + ".") for other in known)


def comment_near(lines: list[str], line: int) -> str:
    here = lines[line - 1]
    if "#" in here:
        return here.split("#", 1)[1].strip()
    above = lines[line - 2].strip() if line >= 2 else ""
    return above[1:].strip() if above.startswith("#") else ""


def read_tree() -> tuple[dict[str, set[str]], list[Function], list[LocalImport]]:
    files = {module_name(path): path for path in source_files()}
    known = set(files)
    graph: dict[str, set[str]] = {module: set() for module in files}
    functions: list[Function] = []
    local_imports: list[LocalImport] = []
    for module, path in files.items():
        text = path.read_text()
        lines = text.splitlines()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[module].update(imported_modules(node, module, known))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append(Function(module, node.name, node.lineno, node.end_lineno - node.lineno + 1))
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        what = inner.module if isinstance(inner, ast.ImportFrom) else inner.names[0].name
                        local_imports.append(LocalImport(module, inner.lineno, what or ".",
                                                         comment_near(lines, inner.lineno)))
    return graph, functions, local_imports


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="list every local import and the 10 longest functions")
    parser.add_argument("--quick", action="store_true", help="the smoke run's flag; this script is quick already")
    args = parser.parse_args()
    graph, functions, local_imports = read_tree()
    found = cycles(graph)
    print(f"modules: {len(graph)}")
    print(f"import cycles: {len(found)}")
    for component in found:
        print("  " + " <-> ".join(component))
    unexplained = [imp for imp in local_imports if not imp.reason]
    print(f"imports inside functions: {len(local_imports)} ({len(unexplained)} without a stated reason)")
    for imp in local_imports if args.all else unexplained:
        print(f"  {imp.module}:{imp.line} {imp.imported}" + (f"  # {imp.reason}" if imp.reason else ""))
    longest = sorted(functions, key=lambda f: f.length, reverse=True)
    print(f"longest function: {longest[0].length} lines ({longest[0].module}.{longest[0].name})")
    print(f"functions over 40 lines: {sum(f.length > 40 for f in functions)}")
    for function in longest[: 10 if args.all else 0]:
        print(f"  {function.length:4d}  {function.module}.{function.name} (line {function.line})")


if __name__ == "__main__":
    main()
