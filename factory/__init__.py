"""verified-factory: turn a language model into verified math and code training data."""

from importlib.metadata import PackageNotFoundError, version

from verified_factory.errors import FactoryError

__all__ = ["FactoryError", "__version__"]

try:
    __version__ = version("verified-factory")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
