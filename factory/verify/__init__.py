"""`factory verify`: one Verdict per Candidate line, in order, from a pool of worker processes
(`workers.py`); the same judging (`judge_candidates`, `judge_group`) serves a job's Ray actors."""

from verified_factory.verify.runner import judge_candidates, judge_group, read_lines, run

__all__ = ["judge_candidates", "judge_group", "read_lines", "run"]
