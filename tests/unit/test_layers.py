"""The layers hold: only the surfaces import the web server or the CLI, and only the store writes SQL.

Read from the source with ``ast`` (nothing is imported), so an import inside a
function, made lazily to dodge a cycle, counts as much as one at the top.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

import rostersync

PACKAGE = Path(rostersync.__file__).parent
SURFACES = ("rostersync.web", "rostersync.cli")
# Below the surfaces: every package and module but web/ and cli/. jobs/ is run by both surfaces,
# so it must not depend on either; top-level modules (vault, notify, netguard, ...) are used by all.
LOWER = sorted(
    path for path in PACKAGE.rglob("*.py")
    if path.relative_to(PACKAGE).parts[0] not in ("web", "cli") and "migrations" not in path.parts
)
# What code outside store/ may take from SQLAlchemy: engines, connections, URLs and errors, no SQL.
SQLALCHEMY_OUTSIDE_STORE = {"sqlalchemy.Engine", "sqlalchemy.Connection", "sqlalchemy.engine.Engine",
                            "sqlalchemy.engine.Connection", "sqlalchemy.engine.make_url", "sqlalchemy.engine.URL"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of everything ``source`` imports, anywhere in it, relative imports
    resolved against ``module``; ``from a import b`` gives ``a.b``."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([node.module] if node.module else []))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


@cache
def imports_of(path: Path) -> list[tuple[int, str]]:
    return imported_names(path.read_text(encoding="utf-8"), module_name(path), is_package=path.name == "__init__.py")


def within(name: str, prefixes) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_the_check_sees_lazy_relative_and_dynamic_imports():
    source = (
        "import os\n"
        "def announce():\n"
        "    from ..web.run_notices import run_notifier\n"
        "    from .. import cli\n"
        "    importlib.import_module('rostersync.web.app')\n"
    )
    names = [name for _, name in imported_names(source, "rostersync.jobs.services")]
    assert names == ["os", "rostersync.web.run_notices.run_notifier", "rostersync.cli",
                     "rostersync.web.app"]
    assert [n for _, n in imported_names("from .model import RunEnded", "rostersync.jobs", is_package=True)] == [
        "rostersync.jobs.model.RunEnded"]


@pytest.mark.parametrize("layer", ["jobs", "sync", "store", "source", "oneroster", "provider"])
def test_each_layer_has_modules_to_check(layer):
    assert any(path.relative_to(PACKAGE).parts[0] == layer for path in LOWER)


def test_nothing_below_the_surfaces_imports_the_web_server_or_the_cli():
    offences = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
                for path in LOWER for line, name in imports_of(path) if within(name, SURFACES)]
    assert offences == []


def test_only_the_store_builds_sql():
    outside = [path for path in PACKAGE.rglob("*.py") if path.relative_to(PACKAGE).parts[0] != "store"]
    offences = [f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}"
                for path in outside for line, name in imports_of(path)
                if within(name, ("sqlalchemy",)) and not within(name, ("sqlalchemy.exc",))
                and name not in SQLALCHEMY_OUTSIDE_STORE]
    assert offences == []
