"""The distribution's one import name: every folder of the three is a listed package."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_folder_is_a_listed_package_of_the_one_import_name() -> None:
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = setuptools["package-dir"]
    assert {name.split(".")[0] for name in folders} == {"verified_factory"}
    found = set()
    for package, folder in folders.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_dir() and path.name != "__pycache__" and any(path.glob("*.py")):
                found.add(".".join([package, *path.relative_to(ROOT / folder).parts]))
        found.add(package)
    found.add("verified_factory.templates")  # the prompt templates, package data
    assert sorted(found) == sorted(setuptools["packages"])


def _project_imports(folder: str) -> dict[str, set[str]]:
    """Each module of `folder` and the project modules it imports."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(ROOT))] = {n for n in names if n.startswith("verified_factory")}
    return found


def _outside(imports: dict[str, set[str]], allowed: tuple[str, ...]) -> dict[str, set[str]]:
    return {
        module: bad
        for module, names in imports.items()
        if (bad := {n for n in names if not n.startswith(allowed)})
    }


def test_the_verifiers_need_only_the_records_and_the_sandboxes() -> None:
    """A plugin's world: `verified_factory.verifiers`, the records and the sandboxes, never
    the job's modules; and the records import nothing of the project."""
    allowed = ("verified_factory.verifiers", "verified_factory.sandboxes")
    assert _outside(_project_imports("verifiers"), (*allowed, "verified_factory.records")) == {}
    assert _outside({"records": _project_imports("factory")["factory/records.py"]}, ()) == {}


def test_the_sandboxes_import_nothing_above_them() -> None:
    assert _outside(_project_imports("sandboxes"), ("verified_factory.sandboxes",)) == {}
