"""The distribution's one import name: every folder of the three is a listed package."""

from __future__ import annotations

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
