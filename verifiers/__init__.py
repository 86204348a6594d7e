"""Verifier plugins: the interface every verifier implements and the registry that finds them."""

from verified_factory.verifiers.base import ENTRY_POINT_GROUP, Verifier
from verified_factory.verifiers.registry import Registry, SelectionError, VerifierInfo

__all__ = ["ENTRY_POINT_GROUP", "Registry", "SelectionError", "Verifier", "VerifierInfo"]
