"""The result model of a preflight run: one line per item, OK / WARN / FAIL, with what to do."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from infra.config import SpaConfig
from scripts import paths

T = TypeVar("T")


class Status(StrEnum):
    """OK: ready. WARN: deployable, but look at it. FAIL: fix it before `medspa up` (exit 1)."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True)
class CheckResult:
    """One reported item; ``action`` says what to do and is empty only when nothing needs doing."""

    item: str
    status: Status
    detail: str
    action: str = ""
    hipaa: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "item": self.item,
            "status": self.status.value,
            "detail": self.detail,
            "action": self.action,
            "hipaa": self.hipaa,
        }


@dataclass(frozen=True)
class QuotaNeeds:
    """What the spa's program creates that counts against a quota (from the offline synthesis)."""

    vpcs: int
    elastic_ips: int
    interface_endpoints_per_vpc: int


@dataclass
class PreflightContext:
    """Everything a check may read: the stack's config, one boto3 session, what earlier checks learned.

    Clients are built on first use from the one session (so ``--profile`` and ``AWS_ENDPOINT_URL``
    apply everywhere); tests may place stubbed clients in ``clients`` beforehand. ``remember`` keeps an
    answer that several checks read (the IAM account summary, the account's public access block).
    """

    config: SpaConfig
    session: Any
    backend_url: str | None = None
    backend_source: str = ""
    needs: Callable[[], QuotaNeeds] | None = None
    account_id: str = ""
    caller_arn: str = ""
    clients: dict[tuple[str, str], Any] = field(default_factory=dict)
    answers: dict[Hashable, Any] = field(default_factory=dict)

    def client(self, service: str, region: str | None = None) -> Any:
        where = region or self.config.region
        key = (service, where)
        if key not in self.clients:
            self.clients[key] = self.session.client(service, region_name=where)
        return self.clients[key]

    def remember(self, key: Hashable, read: Callable[[], T]) -> T:
        """``read()`` once per run; only an answer is kept, so an error is raised again on the next call."""
        if key not in self.answers:
            self.answers[key] = read()
        answer: T = self.answers[key]
        return answer

    @property
    def stack_file(self) -> str:
        return paths.stack_source(self.config.spa)


@dataclass(frozen=True)
class Check:
    """A named check: ``run`` returns its lines; ``manual`` says how to check it by hand if it cannot run."""

    item: str
    run: Callable[[PreflightContext], list[CheckResult]]
    manual: str
    hipaa: str = ""


@dataclass
class PreflightReport:
    """Every line of one run, in the order the checks ran."""

    spa: str
    account_id: str
    caller_arn: str
    results: list[CheckResult]

    @property
    def ok(self) -> bool:
        return not any(r.status is Status.FAIL for r in self.results)

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for r in self.results if r.status is s) for s in Status}

    def to_dict(self) -> dict[str, Any]:
        return {
            "spa": self.spa,
            "account": self.account_id,
            "caller": self.caller_arn,
            "ok": self.ok,
            "summary": self.counts(),
            "items": [r.to_dict() for r in self.results],
        }
