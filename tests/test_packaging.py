"""The house: one import name over the three folders, the arrows between them, one error root."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ERRORS = "verified_factory.errors"
NOT_IMPORTED = (
    "verified_factory.verifiers.code.sandboxed.",  # the sandbox side: stdlib-only scripts
    "verified_factory.sandboxes.inside",
    "verified_factory.__main__",  # runs the command line
)


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


def _project_imports(folder: str, prefix: str = "verified_factory") -> dict[str, set[str]]:
    """Each module of `folder` and the modules it imports whose names start with `prefix` (the
    project's, by default)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[str(path.relative_to(ROOT))] = {
            n for n in names if n == prefix or n.startswith(prefix + ".")
        }
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
    allowed = ("verified_factory.verifiers", "verified_factory.sandboxes", ERRORS)
    assert _outside(_project_imports("verifiers"), (*allowed, "verified_factory.records")) == {}
    records = _project_imports("factory")["factory/records.py"]
    assert _outside({"records": records}, (ERRORS,)) == {}


def test_the_sandboxes_import_nothing_above_them_but_the_error_root() -> None:
    assert _outside(_project_imports("sandboxes"), ("verified_factory.sandboxes", ERRORS)) == {}


def test_ray_is_the_cluster_package_s_alone() -> None:
    """The stages are plain functions of records; where they run is `job/cluster/`'s business."""
    users = {module for module, names in _project_imports("factory", "ray").items() if names}
    assert users and all(module.startswith("factory/job/cluster/") for module in users), users


def test_the_stages_do_not_know_the_job() -> None:
    """source, solve, curate and export never import the job that drives them."""
    for stage in ("sources", "solve", "curate", "export", "synthesis"):
        imports = _project_imports(f"factory/{stage}")
        assert {m: n for m, n in imports.items() if any(".job" in name for name in n)} == {}


INTERNAL = {"NoReport", "_Transient", "AnswerError", "_Refusal"}
"""Exceptions raised and caught inside the project, never reaching a user."""


def test_every_error_a_user_can_meet_has_the_one_root() -> None:
    """Every exception class of the package derives from FactoryError, but the few raised and
    caught inside one module; the sandbox-side scripts (stdlib only) are not the package's."""
    import verified_factory.sandboxes
    import verified_factory.verifiers
    from verified_factory import FactoryError

    packages = (verified_factory, verified_factory.verifiers, verified_factory.sandboxes)
    modules = [
        module
        for package in packages  # three folders: each walked on its own
        for module in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    ]
    assert len(modules) > 60
    outside = []
    for module in modules:
        if module.name.startswith(NOT_IMPORTED):
            continue
        loaded = importlib.import_module(module.name)
        for name, value in vars(loaded).items():
            if (
                isinstance(value, type)
                and issubclass(value, Exception)
                and value.__module__ == module.name
                and name not in INTERNAL
                and not issubclass(value, FactoryError)
            ):
                outside.append(f"{module.name}.{name}")
    assert outside == []
