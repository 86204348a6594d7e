"""Discovery of installed verifiers and the choice of one for each candidate."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from verified_factory.errors import FactoryError
from verified_factory.records import Candidate
from verified_factory.verifiers.base import ENTRY_POINT_GROUP, Verifier


@dataclass(frozen=True)
class VerifierInfo:
    """An installed verifier as `factory verifiers` shows it; `problem` says why it is unusable."""

    name: str
    domains: tuple[str, ...]
    version: str
    package: str
    target: str
    problem: str | None = None


class SelectionError(FactoryError, LookupError):
    """No verifier can judge this candidate; the message says why and what is installed."""


class Registry:
    """The verifiers registered under the entry-point group, loaded once.

    A plugin that fails to import or is registered twice stays listed with its problem, so one
    broken plugin neither hides the others nor stops a run. `settings` maps a verifier's name to
    the keyword arguments it is created with (plain data); the others are created without.
    """

    def __init__(
        self,
        points: Iterable[EntryPoint] | None = None,
        settings: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self._settings = {name: dict(given) for name, given in (settings or {}).items()}
        if points is None:
            points = entry_points(group=ENTRY_POINT_GROUP)
        by_name: dict[str, list[EntryPoint]] = {}
        for point in points:
            by_name.setdefault(point.name, []).append(point)
        self._classes: dict[str, type[Verifier]] = {}
        self._infos: dict[str, VerifierInfo] = {}
        for name, same_name in sorted(by_name.items()):
            self._infos[name] = self._load(name, same_name)
        self._instances: dict[str, Verifier] = {}

    def _load(self, name: str, points: list[EntryPoint]) -> VerifierInfo:
        point = points[0]
        package = point.dist.name if point.dist else "?"
        version = point.dist.version if point.dist else "?"

        def broken(problem: str) -> VerifierInfo:
            return VerifierInfo(name, (), version, package, point.value, problem)

        if len(points) > 1:
            owners = ", ".join(f"{p.value} ({p.dist.name if p.dist else '?'})" for p in points)
            return broken(f"registered more than once: {owners}")
        try:
            cls = point.load()
        except Exception as err:
            return broken(f"cannot be imported: {type(err).__name__}: {err}")
        if not (isinstance(cls, type) and issubclass(cls, Verifier)):
            return broken(f"{point.value} is not a subclass of verifiers.Verifier")
        declared = getattr(cls, "name", None)
        if declared != name:
            return broken(f"entry point {name!r} points to a class whose name is {declared!r}")
        self._classes[name] = cls
        return VerifierInfo(name, tuple(cls.domains), cls.version or version, package, point.value)

    def infos(self) -> list[VerifierInfo]:
        """Every registered verifier, usable or not, by name."""
        return list(self._infos.values())

    def check_name(self, name: str, given_by: str = "--verifier") -> None:
        """Raise SelectionError unless `name` (from `given_by`) is an installed, usable verifier."""
        info = self._infos.get(name)
        if info is None:
            raise SelectionError(
                f"unknown verifier {name!r} ({given_by}); installed: {self._installed()}"
            )
        if info.problem is not None:
            raise SelectionError(f"verifier {name!r} is unusable: {info.problem}")

    def select(self, candidate: Candidate, override: str | None = None) -> Verifier:
        """The verifier for `candidate`: `override`, else its `verifier` field, else its domain."""
        if override is not None:
            name, given_by = override, "--verifier"
        elif candidate.verifier is not None:
            name, given_by = candidate.verifier, "field 'verifier'"
        else:
            name, given_by = self._name_for_domain(candidate.domain), "field 'domain'"
        self.check_name(name, given_by)
        return self._instance(name)

    def prepare(self, domains: Iterable[str]) -> None:
        """Create now the verifier of each of `domains`, so that its set-up (a checking process
        to start, SymPy to import) is done before the first candidate, not in the middle of a
        job's first batches. A domain no usable verifier serves is left for its candidates'
        verdicts to report."""
        for domain in domains:
            try:
                name = self._name_for_domain(domain)
                self.check_name(name)
                self._instance(name)
            except SelectionError:
                continue

    def _instance(self, name: str) -> Verifier:
        instance = self._instances.get(name)
        if instance is None:
            settings = self._settings.get(name, {})
            try:
                instance = self._classes[name](**settings)
            except Exception as err:
                given = f" with settings {settings}" if settings else ""
                raise SelectionError(
                    f"verifier {name!r} could not be created{given}: {type(err).__name__}: {err}"
                ) from err
            self._instances[name] = instance
        return instance

    def _name_for_domain(self, domain: str) -> str:
        serving = [info.name for info in self._infos.values() if domain in info.domains]
        if domain in serving:
            return domain
        if len(serving) == 1:
            return serving[0]
        if not serving:
            raise SelectionError(
                f"no installed verifier serves domain {domain!r} (field 'domain'); "
                f"installed: {self._installed()}; set 'verifier' on the record or pass --verifier"
            )
        raise SelectionError(
            f"several verifiers serve domain {domain!r}: {', '.join(serving)}; "
            "set 'verifier' on the record or pass --verifier"
        )

    def _installed(self) -> str:
        usable = [
            f"{info.name} ({', '.join(info.domains) or 'no domains'})"
            for info in self._infos.values()
            if info.problem is None
        ]
        return ", ".join(usable) if usable else "none"
