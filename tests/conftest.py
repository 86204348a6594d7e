from __future__ import annotations

import os
from pathlib import Path

import pytest

PLUGIN_MODULES = Path(__file__).parent / "plugins"

TEST_ENTRY_POINTS = """\
[verified_factory.verifiers]
scripted = scripted_verifier:ScriptedVerifier
broken = no_such_module:Nothing
"""


@pytest.fixture(scope="session")
def test_plugins(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PYTHONPATH on which the scripted test verifiers are installed, as a plugin would be."""
    site = tmp_path_factory.mktemp("site")
    dist_info = site / "factory_test_plugins-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: factory-test-plugins\nVersion: 0.1\n"
    )
    (dist_info / "entry_points.txt").write_text(TEST_ENTRY_POINTS)
    return os.pathsep.join([str(site), str(PLUGIN_MODULES)])
