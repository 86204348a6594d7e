"""Rewards for reinforcement learning from the same verifiers the factory's jobs use.

- `trl_reward(...)`: a reward function for TRL's trainers (sync or async).
- `compute_score` / `compute_score_batch`, or `verl_score(...)` for other settings: verl's
  custom reward function.
- `prime_reward(...)` (or `verified_factory.rewards.prime:reward` in a task config): a reward
  for prime's `verifiers`, its 0.4 tasks and its earlier `Rubric`.
- `reward_of(verdict)`: the contract every adapter follows (`judge.py`, `docs/rewards.md`):
  1.0 accepted, 0.0 rejected or timed out, None for a verdict that is no judgment.

Every adapter judges in `factory verify`'s worker processes (`VerdictPool`), started by the first
call and reused by the next; the code verifier's sandboxes live in those workers.
"""

from verified_factory.rewards.judge import REWARDS, close_pools, reward_of, shared_pool
from verified_factory.rewards.prime import Unjudged, prime_reward
from verified_factory.rewards.trl import trl_reward
from verified_factory.rewards.verl import compute_score, compute_score_batch, verl_score

__all__ = [
    "REWARDS",
    "Unjudged",
    "close_pools",
    "compute_score",
    "compute_score_batch",
    "prime_reward",
    "reward_of",
    "shared_pool",
    "trl_reward",
    "verl_score",
]
