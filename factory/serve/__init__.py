"""The verification service (`factory serve`): the verifiers over HTTP, with admission control."""

from verified_factory.serve.service import ServeError, ServeSettings, make_app

__all__ = ["ServeError", "ServeSettings", "make_app"]
