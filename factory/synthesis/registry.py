"""Synthesizers by kind: the built-in ones, and plugins under `verified_factory.synthesizers`."""

from __future__ import annotations

from importlib.metadata import entry_points

from verified_factory.errors import FactoryError
from verified_factory.synthesis.base import SYNTHESIZER_ENTRY_POINTS, Synthesizer
from verified_factory.synthesis.evol_instruct import EvolInstruct
from verified_factory.synthesis.metamath import MetaMath
from verified_factory.synthesis.oss_instruct import OssInstruct
from verified_factory.synthesis.self_instruct import SelfInstruct

BUILT_IN: dict[str, type[Synthesizer]] = {
    cls.kind: cls for cls in (SelfInstruct, EvolInstruct, MetaMath, OssInstruct)
}


class UnknownSynthesizer(FactoryError, LookupError):
    pass


def synthesizer_class(kind: str) -> type[Synthesizer]:
    """The class of `kind`: built in, else the plugin registered under that name."""
    if kind in BUILT_IN:
        return BUILT_IN[kind]
    for point in entry_points(group=SYNTHESIZER_ENTRY_POINTS):
        if point.name == kind:
            cls = point.load()
            if not (isinstance(cls, type) and issubclass(cls, Synthesizer)):
                raise UnknownSynthesizer(f"{point.value} is not a subclass of Synthesizer")
            return cls
    installed = sorted(BUILT_IN) + [p.name for p in entry_points(group=SYNTHESIZER_ENTRY_POINTS)]
    raise UnknownSynthesizer(
        f"unknown synthesizer kind {kind!r}; installed: {', '.join(installed)}"
    )
