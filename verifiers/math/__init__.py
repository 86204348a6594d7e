"""The built-in `math` verifier: SymPy answer checks (`verifiers.math.check`)."""

from verifiers.math.verifier import MathVerifier

__all__ = ["MathVerifier"]
