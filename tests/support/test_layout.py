"""The test tree keeps its own rules: a test module never imports from another test module.

Helpers shared by several modules live in tests/support; importing them out of a test module
instead runs that module's fixtures and tests under a second name and ties the two together.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an import names, with its line: `from x import y` gives x and x.y."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def is_test_module(name: str) -> bool:
    """Whether a dotted module name points at a test module (test_*.py) or a conftest."""
    return any(part.startswith("test_") or part == "conftest" for part in name.split("."))


def offences(root: Path) -> list[str]:
    """Each `path:line imports module` under root where the module is a test module."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, name in imported_modules(tree):
            if is_test_module(name):
                found.append(f"{path.relative_to(root)}:{line} imports {name}")
    return found


def test_no_test_module_imports_another(tmp_path: Path) -> None:
    """No file under tests/ imports a test_*.py module or a conftest (checked on a planted
    offence first, so the check itself is known to find one)."""
    planted = tmp_path / "test_planted.py"
    planted.write_text("def f():\n    from tests.functional.test_staff_api import bearer\n")

    assert offences(tmp_path) == [
        "test_planted.py:2 imports tests.functional.test_staff_api",
        "test_planted.py:2 imports tests.functional.test_staff_api.bearer",
    ]
    assert offences(TESTS) == []
