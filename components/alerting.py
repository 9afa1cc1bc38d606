"""Alert routing: per team, one KMS-encrypted SNS topic per severity, with email subscriptions.

Which alarm goes to which topic is data (`alerting` in the environment file): each kind of alarm has a
severity, and a severity says whether it pages the team's on-call (subscribed in addition to the owners).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.config.observability import Severity
from components.naming import SNS_TOPIC, physical_name
from components.tagging import CostTags
from components.warnings import warn


@dataclass(frozen=True)
class TeamAlertsArgs:
    """Inputs of `TeamAlerts`; `composition.team_alerts_args` builds them from the environment file."""

    environment: str
    """Environment (= stack) name, the first part of every topic name."""
    team: str
    """Team name; topics are `<environment>-<team>-<severity>`."""
    owners: Sequence[str]
    """Addresses subscribed to every severity's topic."""
    on_call: Sequence[str]
    """Addresses subscribed to the topics of severities that page."""
    severities: Sequence[Severity]
    """The environment's severities: one topic each."""
    kms_key_arn: pulumi.Input[str]
    """The environment's KMS key, which encrypts the topics (its policy lets CloudWatch alarms use it)."""


def topic_name(environment: str, team: str, severity: str) -> str:
    return physical_name(SNS_TOPIC, environment, team, severity)


def subscribers(args: TeamAlertsArgs, severity: Severity) -> list[str]:
    """Who hears about an alarm of a severity: the owners, and the on-call when it pages (deduplicated,
    in file order)."""
    wanted = list(args.owners) + (list(args.on_call) if severity.pages else [])
    return list(dict.fromkeys(wanted))


class TeamAlerts(PlatformComponent):
    """A team's alert topics: one encrypted SNS topic per severity, subscribed by email."""

    topics: dict[str, aws.sns.Topic]

    def __init__(
        self,
        name: str,
        args: TeamAlertsArgs,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:alerting:TeamAlerts", name, tags, opts)
        if any(s.pages for s in args.severities) and not args.on_call:
            warn(
                name,
                f"team {args.team} has no on_call addresses: paging alarms reach its owners by email only; "
                "add on_call (e.g. the pager's email integration) to the team",
            )
        self.topics = {}
        for severity in args.severities:
            topic = aws.sns.Topic(
                f"{name}-{severity.name}",
                name=topic_name(args.environment, args.team, severity.name),
                display_name=f"ml-platform {args.environment} {args.team} {severity.name}",
                kms_master_key_id=args.kms_key_arn,
                opts=self.child_opts(),
            )
            self.topics[severity.name] = topic
            for address in subscribers(args, severity):
                # Email subscriptions stay pending until the recipient confirms the message SNS sends.
                aws.sns.TopicSubscription(
                    f"{name}-{severity.name}-{_slug(address)}",
                    topic=topic.arn,
                    protocol="email",
                    endpoint=address,
                    opts=self.child_opts(),
                )
        self.register_outputs({"topicArns": {k: t.arn for k, t in self.topics.items()}})

    def topic_arn(self, severity: str) -> pulumi.Output[str]:
        return self.topics[severity].arn


def _slug(address: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", address.lower()).strip("-")
