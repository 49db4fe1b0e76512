"""The alert topic every security signal goes to: alarms, GuardDuty findings, backup failures.

164.308(a)(6)(ii) response and reporting; 164.308(a)(1)(ii)(D) information system activity review.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.context import DataClassification, SpaContext

PUBLISHER_SERVICES = ("cloudwatch.amazonaws.com", "events.amazonaws.com", "backup.amazonaws.com")


def topic_policy(topic_arn: str, account_id: str) -> str:
    """Only this account's alarm, event and backup services may publish; only over TLS."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "AccountServicesPublish",
            "Effect": "Allow",
            "Principal": {"Service": list(PUBLISHER_SERVICES)},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    ]
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


@dataclass(frozen=True)
class AlertsArgs:
    """The key that encrypts alert messages (the logs key) and who receives them."""

    kms_key_arn: pulumi.Input[str]
    emails: tuple[str, ...]


class Alerts(pulumi.ComponentResource):
    """An SNS topic encrypted with a customer-managed key, with an e-mail subscription per address."""

    topic: aws.sns.Topic

    def __init__(
        self, name: str, args: AlertsArgs, ctx: SpaContext, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("medspa:alerts:Alerts", name, None, opts)
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=ctx.name("security-alerts"),
            display_name=f"{ctx.spa} security alerts",
            kms_master_key_id=args.kms_key_arn,
            tags=ctx.tags(DataClassification.AUDIT),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=pulumi.Output.all(self.topic.arn, ctx.account_id).apply(
                lambda values: topic_policy(values[0], values[1])
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, email in enumerate(args.emails):
            aws.sns.TopicSubscription(
                f"{name}-email-{index}",
                topic=self.topic.arn,
                protocol="email",
                endpoint=email,
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"topicArn": self.topic.arn})
