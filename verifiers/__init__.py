"""Verifier plugins: the interface every verifier implements and the registry that finds them."""

from verifiers.base import ENTRY_POINT_GROUP, Verifier
from verifiers.registry import Registry, SelectionError, VerifierInfo

__all__ = ["ENTRY_POINT_GROUP", "Registry", "SelectionError", "Verifier", "VerifierInfo"]
