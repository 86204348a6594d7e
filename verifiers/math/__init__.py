"""The built-in `math` verifier: SymPy answer checks (`verified_factory.verifiers.math.check`)."""

from verified_factory.verifiers.math.verifier import MathVerifier

__all__ = ["MathVerifier"]
