"""A job's running figures: what the progress line shows and `RUN_DIR/metrics.json` keeps."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from verified_factory.models.base import Completion, ModelFailure
from verified_factory.records import Verdict
from verified_factory.rows import Attempt, ProblemError


@dataclass
class RunMetrics:
    """Counters of one session of a job (a resumed run counts what it skipped separately)."""

    problems_total: int | None = None
    started: float = field(default_factory=time.monotonic)
    problems_done: int = 0
    problems_skipped: int = 0  # committed by an earlier session
    problems_solved: int = 0
    units_committed: int = 0
    requests_bought: int = 0
    per_endpoint: Counter[str] = field(default_factory=Counter)  # completions bought, by base URL
    per_generation_worker: Counter[int] = field(default_factory=Counter)  # the same, by worker
    generation_nodes: dict[int, str] = field(default_factory=dict)  # each worker's node
    completions_reused: int = 0
    model_failures: Counter[str] = field(default_factory=Counter)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    verdicts: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    kept: int = 0
    kept_rationalized: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    decontaminated: int = 0  # problems left out at the source, before any model call
    verified_on_node: Counter[str] = field(default_factory=Counter)
    processes: dict[str, int] = field(default_factory=dict)
    requests_waiting: int = 0  # handed to the model, not answered yet
    verification_bound_s: float = 0.0  # the endpoint had room, but verification held the job

    def completion(self, item: Completion | ModelFailure, *, reused: bool) -> None:
        if isinstance(item, ModelFailure):
            self.model_failures[item.kind] += 1
            return
        if reused:
            self.completions_reused += 1
            return
        self.requests_bought += 1
        if item.endpoint is not None:
            self.per_endpoint[item.endpoint] += 1
        self.prompt_tokens += item.prompt_tokens
        self.completion_tokens += item.completion_tokens

    def verified(self, node: str, verdicts: list[Verdict]) -> None:
        self.verified_on_node[node] += len(verdicts)
        self.screened(verdicts)

    def screened(self, verdicts: list[Verdict]) -> None:
        """Count verdicts by verifier and status; the job's own (`replies`) come here directly,
        the verifiers' through `verified`."""
        for verdict in verdicts:
            self.verdicts[verdict.verifier or "(none)"][verdict.status] += 1

    def unit(self, problems: int, records: list[Attempt | ProblemError]) -> None:
        self.units_committed += 1
        self.problems_done += problems
        solved = set()
        for record in records:
            if isinstance(record, ProblemError) and record.removal is not None:
                self.decontaminated += 1
            elif isinstance(record, ProblemError):
                self.errors[record.stage] += 1
            elif record.kept:
                self.kept += 1
                self.kept_rationalized += record.rationalized
                solved.add(record.problem_id)
        self.problems_solved += len(solved)

    def line(self) -> str:
        """`120/250 problems, 31.0 req/s, 2,410 tok/s, accepted math 71% code 64%, 0 errors`."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        total = f"/{self.problems_total - self.problems_skipped:,}" if self.problems_total else ""
        acceptance = " ".join(
            f"{name} {counts['accepted'] / max(sum(counts.values()), 1):.0%}"
            for name, counts in sorted(self.verdicts.items())
        )
        errors = sum(self.errors.values())
        endpoints = ""
        if len(self.per_endpoint) > 1:
            endpoints = (
                " ("
                + ", ".join(
                    f"{_host(url)} {n / elapsed:,.1f}"
                    for url, n in sorted(self.per_endpoint.items())
                )
                + ")"
            )
        return (
            f"{self.problems_done:,}{total} problems, {self.requests_bought / elapsed:,.1f} req/s"
            f"{endpoints}, "
            f"{(self.prompt_tokens + self.completion_tokens) / elapsed:,.0f} tok/s, "
            f"accepted {acceptance or '-'}, {errors:,} errors{self._bound(elapsed)}"
            f"{self._eta(elapsed)}"
        )

    def _bound(self, elapsed: float) -> str:
        share = self.verification_bound_s / elapsed
        return f", verification-bound {share:.0%} of the time" if share >= 0.01 else ""

    def _eta(self, elapsed: float) -> str:
        if not self.problems_total or not self.problems_done:
            return ""
        left = self.problems_total - self.problems_skipped - self.problems_done
        return f", ETA {left * elapsed / self.problems_done:,.0f} s"

    def as_json(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        return {
            "elapsed_s": round(elapsed, 3),
            "problems": {
                "total": self.problems_total,
                "done": self.problems_done,
                "skipped_as_committed": self.problems_skipped,
                "solved": self.problems_solved,
            },
            "units_committed": self.units_committed,
            "requests": {
                "bought": self.requests_bought,
                "reused_from_store": self.completions_reused,
                "failed": dict(self.model_failures),
                "per_s": round(self.requests_bought / max(elapsed, 1e-9), 2),
                "per_endpoint": {
                    url: {"bought": n, "per_s": round(n / max(elapsed, 1e-9), 2)}
                    for url, n in sorted(self.per_endpoint.items())
                },
                "per_generation_worker": [
                    {"node": node, "bought": self.per_generation_worker[n]}
                    for n, node in sorted(self.generation_nodes.items())
                ],
            },
            "tokens": {
                "prompt": self.prompt_tokens,
                "completion": self.completion_tokens,
                "per_s": round((self.prompt_tokens + self.completion_tokens) / max(elapsed, 1e-9)),
            },
            "verdicts": {name: dict(counts) for name, counts in sorted(self.verdicts.items())},
            "acceptance": {
                name: round(counts["accepted"] / max(sum(counts.values()), 1), 4)
                for name, counts in sorted(self.verdicts.items())
            },
            "kept": {"rows": self.kept, "rationalized": self.kept_rationalized},
            "decontaminated_problems": self.decontaminated,
            "errors": dict(self.errors),
            "verified_on_node": dict(self.verified_on_node),
            "verification_bound": {
                "seconds": round(self.verification_bound_s, 1),
                "share": round(self.verification_bound_s / max(elapsed, 1e-9), 4),
            },
            "peak_rss_mib": _peak_rss_mib(self.processes),
        }


def _host(url: str) -> str:
    """`http://10.0.0.5:8000/v1` -> `10.0.0.5:8000`: an endpoint in the progress line."""
    return url.split("://", 1)[-1].split("/", 1)[0]


def _peak_rss_mib(processes: dict[str, int]) -> dict[str, float]:
    """Each process's peak resident memory (VmHWM), where its /proc entry is readable here."""
    peaks = {}
    for name, pid in processes.items():
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peaks[name] = round(int(line.split()[1]) / 1024, 1)
        except OSError:
            continue
    return peaks
