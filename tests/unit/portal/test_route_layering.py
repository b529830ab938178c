"""HTML route modules share code through portal/, never by importing a JSON route module."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
ROUTES = ROOT / "portal" / "routes"
CONTRACT = "HTML route modules never import a JSON route module"


def _api_modules() -> set[str]:
    return {f"portal.routes.{p.stem}" for p in ROUTES.glob("*_api.py")}


def _html_modules() -> set[str]:
    found = {f"portal.routes.{p.stem}" for p in ROUTES.glob("*.py") if p.stem != "__init__"}
    return found - _api_modules()


def _imports(module: str) -> set[str]:
    tree = ast.parse((ROUTES / (module.rsplit(".", 1)[1] + ".py")).read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_no_html_route_module_imports_a_json_route_module() -> None:
    """No module in portal/routes without the _api suffix imports one that has it."""
    offenders = {
        (module, name)
        for module in _html_modules()
        for name in _imports(module)
        if name in _api_modules()
    }

    assert offenders == set()


def test_the_import_linter_contract_lists_every_route_module() -> None:
    """lint-imports forbids exactly this: every HTML route module from every JSON one."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    contract = next(c for c in config["contracts"] if c["name"].startswith(CONTRACT))

    assert set(contract["source_modules"]) == _html_modules()
    assert set(contract["forbidden_modules"]) == _api_modules()
