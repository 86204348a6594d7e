"""The built-in `code` verifier: tests run in the sandbox."""

from verified_factory.verifiers.code.verifier import CodeVerifier

__all__ = ["CodeVerifier"]
