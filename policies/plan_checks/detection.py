"""CKV_MEDSPA_102-104: GuardDuty, Security Hub and AWS Config are on (or explicitly adopted)."""

from __future__ import annotations

from typing import Any

from policies.plan_checks.base import PLAN_ADDRESS, PlanCheck, PlanFinding, PlanView, adopted_services, first


def _enabled(value: Any, *, default: bool = True) -> bool:
    value = first(value)
    if value is None:
        return default
    return value is True or (isinstance(value, str) and value.lower() == "true")


class _DetectorCheck(PlanCheck):
    """A service that must be on in the account: created in the stack, or adopted by name."""

    adopt_key: str
    service: str

    def run(self, plan: dict[str, Any]) -> list[PlanFinding]:
        findings = self.judge(PlanView(plan))
        if any(f.status == "passed" for f in findings):
            return findings
        nothing_planned = all(f.address == PLAN_ADDRESS for f in findings)
        if nothing_planned and self.adopt_key in adopted_services(plan):
            return [
                self.passed(
                    PLAN_ADDRESS,
                    f"{self.service} is adopted: the stack records it as already enabled outside this plan",
                )
            ]
        return findings

    def judge(self, view: PlanView) -> list[PlanFinding]:
        raise NotImplementedError


class GuardDutyEnabled(_DetectorCheck):
    id = "CKV_MEDSPA_102"
    name = "Ensure GuardDuty is enabled"
    hipaa = ("164.308(a)(1)(ii)(D)", "164.308(a)(5)(ii)(B)", "164.308(a)(6)(ii)")
    adopt_key = "guardduty"
    service = "GuardDuty"

    def judge(self, view: PlanView) -> list[PlanFinding]:
        detectors = view.of_type("aws_guardduty_detector")
        if not detectors:
            return [
                self.failed(PLAN_ADDRESS, "no GuardDuty detector in the plan and GuardDuty is not adopted")
            ]
        return [
            self.passed(d.address, "GuardDuty detector is enabled")
            if _enabled(d.get("enable"))
            else self.failed(d.address, "GuardDuty detector has enable = false")
            for d in detectors
        ]


class SecurityHubEnabled(_DetectorCheck):
    id = "CKV_MEDSPA_103"
    name = "Ensure Security Hub is enabled"
    hipaa = ("164.308(a)(1)(ii)(D)", "164.308(a)(8)")
    adopt_key = "securityhub"
    service = "Security Hub"

    def judge(self, view: PlanView) -> list[PlanFinding]:
        accounts = view.of_type("aws_securityhub_account")
        if not accounts:
            return [
                self.failed(
                    PLAN_ADDRESS, "no Security Hub account in the plan and Security Hub is not adopted"
                )
            ]
        return [self.passed(a.address, "Security Hub is enabled") for a in accounts]


class ConfigRecorderEnabled(_DetectorCheck):
    id = "CKV_MEDSPA_104"
    name = "Ensure AWS Config records: a recorder, a delivery channel and an enabled recorder status"
    hipaa = ("164.308(a)(1)(ii)(D)", "164.308(a)(8)", "164.312(b)")
    adopt_key = "config"
    service = "AWS Config"

    def judge(self, view: PlanView) -> list[PlanFinding]:
        recorders = view.of_type("aws_config_configuration_recorder")
        if not recorders:
            return [self.failed(PLAN_ADDRESS, "no AWS Config recorder in the plan and Config is not adopted")]
        findings: list[PlanFinding] = []
        channels = view.of_type("aws_config_delivery_channel")
        statuses = view.of_type("aws_config_configuration_recorder_status")
        for recorder in recorders:
            status = [s for s in statuses if view.refers_to(s, "name", recorder)] or statuses
            if not channels:
                findings.append(self.failed(recorder.address, "AWS Config recorder has no delivery channel"))
            elif not any(_enabled(s.get("is_enabled"), default=False) for s in status):
                findings.append(
                    self.failed(recorder.address, "AWS Config recorder is not started (recorder status)")
                )
            else:
                findings.append(self.passed(recorder.address, "AWS Config is recording and delivering"))
        return findings
