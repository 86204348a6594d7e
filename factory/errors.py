"""The one root of the errors verified-factory raises to its users: catch `FactoryError`.

The tree (each also keeps the built-in base it had, so `except ValueError` still works):

    FactoryError
    ├── ConfigError (ValueError)          a job config that does not validate
    ├── RecordError (ValueError)          a record that does not fit the schema
    ├── RunDirError (RuntimeError)        a run directory that cannot be used or resumed
    ├── JobFailed (RuntimeError)          a job that cannot go on (an unreachable endpoint)
    ├── ModelError                        a model request that failed for good
    ├── ModelUnreachable (RuntimeError)   no endpoint answers
    ├── LocalModelError (RuntimeError)    the bundled model server cannot start
    ├── ExportError                       an export that cannot be written
    ├── DedupeError                       an earlier export to dedupe against is unusable
    ├── BenchmarkError (ValueError)       benchmarks that cannot be read or fetched
    │   └── UnknownBenchmark              a file that is no benchmark this knows
    ├── MissingEmbeddingsExtra (ImportError)  the `embeddings` extra is not installed
    ├── UnknownSynthesizer (LookupError)  a synthesizer kind nobody registered
    ├── PoolStartError (RuntimeError)     `factory verify`'s workers cannot start
    ├── ServeError (ValueError)           `factory serve` cannot start as asked (no token)
    ├── Unjudged (RuntimeError)           a reward for prime's `verifiers` that is no judgment
    ├── SelectionError (LookupError)      no verifier can judge a candidate
    ├── DeadlineExceeded (RuntimeError)   a verifier's check past its hard limit
    ├── ChildDied (RuntimeError)          a verifier's check process died
    └── SandboxError (RuntimeError)       the sandbox cannot run a program

This module imports nothing, so every part of the project, the sandboxes included, can raise
from the one root.
"""

from __future__ import annotations


class FactoryError(Exception):
    """Anything verified-factory raises to its users."""


__all__ = ["FactoryError"]
