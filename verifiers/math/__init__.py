"""The built-in `math` verifier: SymPy answer checks."""

from verifiers.math.check import Check, check
from verifiers.math.verifier import MathVerifier

__all__ = ["Check", "MathVerifier", "check"]
