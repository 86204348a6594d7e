"""A verifier only the tests install: it misbehaves on request, to test the runner around it.

`meta.do` picks the behaviour: `compare` (default: accept when response == reference), `exit`,
`kill`, `hang`, `raise`, `not-a-verdict`; `meta.sleep` waits that many seconds first.
"""

from __future__ import annotations

import os
import signal
import time

from verified_factory.records import Candidate, Verdict
from verified_factory.verifiers import Verifier


class ScriptedVerifier(Verifier):
    name = "scripted"
    domains = ("scripted",)

    def verify(self, candidate: Candidate) -> Verdict:
        action = candidate.meta.get("do", "compare")
        time.sleep(candidate.meta.get("sleep", 0))
        if action == "exit":
            os._exit(3)
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if action == "hang":
            time.sleep(3600)
        if action == "raise":
            raise RuntimeError("scripted failure")
        if action == "not-a-verdict":
            return "yes"  # type: ignore[return-value]
        same = candidate.response == candidate.reference
        return Verdict(
            id=candidate.id,
            accepted=same,
            status="accepted" if same else "rejected",
            reason="response equals reference" if same else "response differs from reference",
            extracted=candidate.response,
        )


class UnnamedVerifier(Verifier):
    """Registered under a name it does not declare: the registry must refuse it."""

    name = "something-else"

    def verify(self, candidate: Candidate) -> Verdict:
        raise AssertionError("never selected")


class FailsToStart(Verifier):
    name = "fails_to_start"
    domains = ("scripted",)

    def __init__(self) -> None:
        raise OSError("no sandbox engine")

    def verify(self, candidate: Candidate) -> Verdict:
        raise AssertionError("never created")


class NotAVerifier:
    name = "not_a_verifier"


class TextTwin(Verifier):
    """A second server of the `text` domain, for ambiguity tests."""

    name = "text_twin"
    domains = ("text",)

    def verify(self, candidate: Candidate) -> Verdict:
        raise AssertionError("never selected")


class Text(TextTwin):
    """Serves `text` and bears the domain's name, so it wins the domain."""

    name = "text"
