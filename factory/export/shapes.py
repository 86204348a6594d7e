"""The shapes of an export: each dataset config's columns (Arrow schemas) and the rows that fill
them, and the split a problem falls in. A new export shape goes here, with its option in
`config.ExportConfig`."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any, Literal

import pyarrow as pa

from verified_factory.rows import Attempt, ReasoningShape

Split = Literal["train", "test"]


_PROVENANCE = pa.struct(
    [
        pa.field("synthesizer", pa.string()),
        pa.field("name", pa.string()),
        pa.field("seeds", pa.list_(pa.string())),
        pa.field("round", pa.int64()),
        pa.field("operation", pa.string()),
        pa.field(
            "snippet",  # OSS-Instruct: the code the problem was drawn from
            pa.struct(
                [
                    pa.field("path", pa.string()),
                    pa.field("start", pa.int64()),
                    pa.field("end", pa.int64()),
                ]
            ),
        ),
    ]
)


def _message(reasoning: ReasoningShape) -> pa.StructType:
    """A chat message; in the `field` shape with its `reasoning_content` (null but for the
    assistant's reasoning), the key chat templates with a thinking field read."""
    fields = [
        pa.field("role", pa.string(), nullable=False),
        pa.field("content", pa.string(), nullable=False),
    ]
    if reasoning == "field":
        fields.append(pa.field("reasoning_content", pa.string()))
    return pa.struct(fields)


def sft_schema(reasoning: ReasoningShape = "think") -> pa.Schema:
    """The columns of `Attempt.sft_row`, fixed so that empty and non-empty shards agree."""
    return pa.schema(
        [
            pa.field("messages", pa.list_(_message(reasoning)), nullable=False),
            pa.field("id", pa.string(), nullable=False),
            pa.field("problem_id", pa.string(), nullable=False),
            pa.field("domain", pa.string(), nullable=False),
            pa.field("source", pa.string()),
            pa.field("verifier", pa.string()),
            pa.field("rationalized", pa.bool_(), nullable=False),
            pa.field("pass_rate", pa.float64()),
            pa.field("model", pa.string(), nullable=False),
            pa.field("reference", pa.string()),
            pa.field("agreement", pa.float64()),
            pa.field("tests", pa.string()),
            pa.field("provenance", _PROVENANCE),
        ]
    )


def rejected_schema(reasoning: ReasoningShape = "think") -> pa.Schema:
    """An attempt not kept: the SFT columns plus why (negatives for preference or verifier
    training)."""
    return pa.schema(
        [
            *sft_schema(reasoning),
            pa.field("status", pa.string(), nullable=False),
            pa.field("reason", pa.string(), nullable=False),
            pa.field("extracted", pa.string()),
        ]
    )


def preference_schema(reasoning: ReasoningShape = "think") -> pa.Schema:
    """A pair of `preference_row`: TRL's conversational preference format, plus the pair's ids."""
    message = pa.list_(_message(reasoning))
    return pa.schema(
        [
            pa.field("prompt", message, nullable=False),
            pa.field("chosen", message, nullable=False),
            pa.field("rejected", message, nullable=False),
            pa.field("problem_id", pa.string(), nullable=False),
            pa.field("domain", pa.string(), nullable=False),
            pa.field("chosen_id", pa.string(), nullable=False),
            pa.field("rejected_id", pa.string(), nullable=False),
        ]
    )


SFT_SCHEMA = sft_schema()


REJECTED_SCHEMA = rejected_schema()


PREFERENCE_SCHEMA = preference_schema()


@dataclasses.dataclass(frozen=True)
class DatasetConfig:
    """A dataset config of the card: its folder, columns and each split's file name prefix."""

    name: str
    folder: str
    schema: pa.Schema
    prefixes: Mapping[str, str]


DEFAULT = DatasetConfig("default", "data", SFT_SCHEMA, {"train": "train", "test": "test"})


REJECTED = DatasetConfig(
    "rejected", "rejected", REJECTED_SCHEMA, {"train": "rejected", "test": "test"}
)


PREFERENCE = DatasetConfig(
    "preference", "preference", PREFERENCE_SCHEMA, {"train": "train", "test": "test"}
)


def dataset_configs(preference: bool, reasoning: ReasoningShape) -> list[DatasetConfig]:
    """The dataset configs of an export, their columns in the reasoning's shape."""
    schemas = {
        DEFAULT.name: sft_schema(reasoning),
        REJECTED.name: rejected_schema(reasoning),
        PREFERENCE.name: preference_schema(reasoning),
    }
    chosen = [DEFAULT, REJECTED, *([PREFERENCE] if preference else [])]
    return [dataclasses.replace(config, schema=schemas[config.name]) for config in chosen]


def split_of(problem_id: str, test_fraction: float) -> Split:
    """`test` for a share `test_fraction` of problem ids, else `train`.

    A hash of the id, not a draw: a problem lands in the same split in every export of every run,
    so a held-out problem never leaks into a later export's training split.
    """
    digest = hashlib.sha256(problem_id.encode("utf-8")).digest()
    return "test" if int.from_bytes(digest[:8], "big") < test_fraction * 2**64 else "train"


def rejected_row(attempt: Attempt, reasoning: ReasoningShape = "think") -> dict[str, Any]:
    """A rejected attempt's row: the SFT row plus the verdict's status, reason and extraction."""
    verdict = attempt.verdict
    return {
        **attempt.sft_row(reasoning),
        "status": verdict.status,
        "reason": verdict.reason,
        "extracted": verdict.extracted,
    }


def preference_row(
    chosen: Attempt, rejected: Attempt, reasoning: ReasoningShape = "think"
) -> dict[str, Any]:
    """A pair in TRL's conversational preference format (explicit prompt), with its ids."""
    return {
        "prompt": [chosen.prompt_message(reasoning)],
        "chosen": [chosen.assistant_message(reasoning)],
        "rejected": [rejected.assistant_message(reasoning)],
        "problem_id": chosen.problem_id,
        "domain": chosen.domain,
        "chosen_id": chosen.id,
        "rejected_id": rejected.id,
    }
