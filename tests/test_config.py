from __future__ import annotations

from pathlib import Path

import pytest

from verified_factory.config import ConfigError, JobConfig, ModelConfig, load_config

DEMO = Path(__file__).parents[1] / "configs" / "demo.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "job.yaml"
    path.write_text(text)
    return path


def test_the_demo_config_is_the_embedded_defaults_plus_its_problems() -> None:
    config = load_config(DEMO)
    assert (config.source.generators.math, config.source.generators.code) == (200, 50)
    assert config.model.backend == "offline"
    expected = JobConfig().model_copy(update={"source": config.source})
    assert config == expected


def test_contract_example_loads(tmp_path: Path) -> None:
    config = load_config(
        write(
            tmp_path,
            """
run_dir: runs/x
source:
  files: [data/problems.jsonl]
  generators: {math: 200, code: 50, seed: 0}
model:
  backend: openai
  base_url: http://127.0.0.1:8000/v1
  model: my-model
  api_key_env: OPENAI_API_KEY
  max_concurrency: 64
solve: {samples: 4, keep: 2}
export: {format: jsonl, shard_size: 100}
""",
        )
    )
    assert config.model.base_url == "http://127.0.0.1:8000/v1"
    assert config.source.files == [tmp_path / "data" / "problems.jsonl"]
    assert (config.export.format, config.export.shard_size) == ("jsonl", 100)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("model: {temprature: 0.5}", "unknown key 'model.temprature'"),
        ("colour: red", "unknown key 'colour'"),
        ("solve: {samples: 0}", "'solve.samples': Input should be greater than or equal to 1"),
        (
            "model: {backend: openai}",
            "model.base_url (or model.endpoints) is required with backend 'openai'",
        ),
        ("sandbox: {backend: vm}", "'sandbox.backend': Input should be 'auto', 'docker' or"),
        ("- a list", "the top level must be a mapping"),
        ("model: [unclosed", "not valid YAML"),
    ],
)
def test_bad_configs_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, text))
    assert message in str(caught.value)
    assert str(tmp_path / "job.yaml") in str(caught.value)


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "absent.yaml")


def test_fingerprint_follows_every_setting() -> None:
    base = JobConfig()
    assert base.fingerprint() == JobConfig().fingerprint()
    changed = base.model_copy(update={"solve": base.solve.model_copy(update={"keep": 3})})
    assert changed.fingerprint() != base.fingerprint()


def test_a_generation_workers_share_divides_every_limit_rounding_up() -> None:
    model = ModelConfig(
        backend="openai",
        endpoints=[{"base_url": "http://a/v1", "max_concurrency": 9}, {"base_url": "http://b/v1"}],
        max_concurrency=64,
        requests_per_minute=100,
        generation_workers=3,
    )
    part = model.share(3)
    limits = (part.max_concurrency, part.requests_per_minute, part.tokens_per_minute)
    assert limits == (22, 34, None)
    assert [e.max_concurrency for e in part.endpoint_list()] == [3, 22]
    assert model.share(1) is model
