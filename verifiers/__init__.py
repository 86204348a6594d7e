"""Verifier plugins: the interface every verifier implements, the records it reads and writes,
and the registry that finds them. A plugin needs nothing else of verified-factory."""

from verified_factory.records import Agreement, Candidate, Verdict
from verified_factory.verifiers.base import ENTRY_POINT_GROUP, Verifier, member_verdict
from verified_factory.verifiers.registry import Registry, SelectionError, VerifierInfo

__all__ = [
    "ENTRY_POINT_GROUP",
    "Agreement",
    "Candidate",
    "Registry",
    "SelectionError",
    "Verdict",
    "Verifier",
    "VerifierInfo",
    "member_verdict",
]
