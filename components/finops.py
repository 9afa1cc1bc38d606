"""Cost guardrails as code: budgets per environment and team, anomaly alerts, cost-allocation tags.

Facts this module relies on (read 2026-11-25):
- Budget tag filters name a cost-allocation tag as `user:<key>$<value>` under the filter name `TagKeyValue`
  (Pulumi AWS `budgets.Budget` docs, "Create a cost filter using resource tags":
  https://www.pulumi.com/registry/packages/aws/api-docs/budgets/budget/).
- AWS Budgets publishes to SNS as `budgets.amazonaws.com`, only to topics in the same account, and the topic
  policy should scope it with `aws:SourceAccount` and `aws:SourceArn` = `arn:aws:budgets::<account>:*`
  (https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html).
- Cost Anomaly Detection publishes as `costalerts.amazonaws.com`
  (https://docs.aws.amazon.com/cost-management/latest/userguide/ad-SNS.html); IMMEDIATE alerts go to SNS
  subscribers, DAILY/WEEKLY summaries to email subscribers (Pulumi AWS `costexplorer.AnomalySubscription`).
- A service publishing to a topic encrypted with a customer managed key needs `kms:GenerateDataKey*` and
  `kms:Decrypt` on that key in its key policy
  (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html) — see `KEY_SERVICE_PRINCIPALS`,
  which the platform passes to the foundation's key policy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.naming import SNS_TOPIC, NameRule, physical_name
from components.tagging import COST_TAG_KEYS, MODEL_TAG_KEY, CostTags
from components.warnings import warn

BUDGETS_PRINCIPAL = "budgets.amazonaws.com"
ANOMALY_PRINCIPAL = "costalerts.amazonaws.com"
KEY_SERVICE_PRINCIPALS = (BUDGETS_PRINCIPAL, ANOMALY_PRINCIPAL)
"""Services that publish to the (KMS-encrypted) cost alert topic, so they must be able to use the key."""

# AWS Budgets BudgetName: 1..100 characters, no ':' or '\\' (botocore budgets service-2.json, shape BudgetName);
# we keep to letters, digits, '_', '.' and '-'.
BUDGET = NameRule(100, re.compile(r"[^a-zA-Z0-9_.-]"))
# Cost Explorer monitor and subscription names: GenericString, up to 1024 (botocore ce service-2.json).
COST_EXPLORER = NameRule(1024, re.compile(r"[^a-zA-Z0-9_.-]"))

ALLOCATION_TAG_KEYS = (*COST_TAG_KEYS, MODEL_TAG_KEY)
"""The cost-allocation tags every resource carries; activated in the payer account."""


def tag_filter_value(key: str, value: str) -> str:
    """A Budgets `TagKeyValue` filter value for a user-defined cost-allocation tag."""
    return f"user:{key}${value}"


@dataclass(frozen=True)
class TeamBudget:
    """One team's budget in the environment."""

    team: str
    """Team name: the value of the `team` cost-allocation tag the budget filters on."""
    monthly_budget_usd: float
    """The team's monthly limit in USD."""
    owners: tuple[str, ...]
    """Emails that receive the team's budget alerts."""


@dataclass(frozen=True)
class FinOpsArgs:
    """Inputs of `CostGuardrails`."""

    environment: str
    """Environment (= stack) name, used in every name."""
    account_id: str
    """The environment's account: budgets may only publish to topics in their own account."""
    kms_key_arn: pulumi.Input[str]
    """The environment key that encrypts the alert topic (its policy must admit KEY_SERVICE_PRINCIPALS)."""
    monthly_budget_usd: float
    """Limit of the environment budget (the whole account, which is dedicated to the environment)."""
    forecasted_alert_percent: int
    """Alert when forecasted spend passes this share of a budget."""
    actual_alert_percent: int
    """Alert when actual spend passes this share of a budget."""
    environment_recipients: tuple[str, ...]
    """Emails that receive the environment budget's alerts and the daily anomaly summary."""
    teams: tuple[TeamBudget, ...]
    """One budget per team, filtered on the `team` cost-allocation tag."""
    anomaly_threshold_usd: float
    """Anomalies with at least this total impact (USD) are reported."""
    activate_cost_allocation_tags: bool = False
    """Activate ALLOCATION_TAG_KEYS as cost-allocation tags (only possible in the payer account)."""
    shared_cost_center_note: str = ""
    """Set when nobody was named to pay for shared resources: the warning that says whose cost center pays."""


def budget_warnings(args: FinOpsArgs) -> list[str]:
    """Budget settings that are valid but inconsistent: team budgets adding up to more than the environment's."""
    total = sum(t.monthly_budget_usd for t in args.teams)
    if total <= args.monthly_budget_usd:
        return []
    parts = " + ".join(f"{t.team} {t.monthly_budget_usd:g}" for t in args.teams)
    return [
        f"team budgets add up to {total:g} USD/month ({parts}), above the environment budget of "
        f"{args.monthly_budget_usd:g} USD: the environment alert fires before any team's; raise "
        "finops.monthly_budget_usd or lower the team budgets"
    ]


class CostGuardrails(PlatformComponent):
    """An encrypted alert topic, budgets for the environment and each team, and an anomaly monitor."""

    topic: aws.sns.Topic
    environment_budget: aws.budgets.Budget
    team_budgets: dict[str, aws.budgets.Budget]
    anomaly_monitor: aws.costexplorer.AnomalyMonitor

    def __init__(
        self,
        name: str,
        args: FinOpsArgs,
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:finops:CostGuardrails", name, tags, opts)
        env = args.environment
        for message in budget_warnings(args):
            warn(name, message)
        if args.shared_cost_center_note:
            warn(name, f"shared resources: {args.shared_cost_center_note}")

        self.topic = aws.sns.Topic(
            f"{name}-alerts",
            name=physical_name(SNS_TOPIC, "mlp", env, "cost-alerts"),
            kms_master_key_id=args.kms_key_arn,
            opts=self.child_opts(),
        )
        topic_policy = aws.sns.TopicPolicy(
            f"{name}-alerts-policy",
            arn=self.topic.arn,
            policy=self.topic.arn.apply(lambda arn: _topic_policy(arn, args.account_id)),
            opts=self.child_opts(),
        )

        self.environment_budget = self._budget(
            f"{name}-environment",
            budget_name=physical_name(BUDGET, "mlp", env),
            limit_usd=args.monthly_budget_usd,
            args=args,
            recipients=args.environment_recipients,
            cost_filters=None,
            depends_on=topic_policy,
        )
        self.team_budgets = {
            team.team: self._budget(
                f"{name}-team-{team.team}",
                budget_name=physical_name(BUDGET, "mlp", env, "team", team.team),
                limit_usd=team.monthly_budget_usd,
                args=args,
                recipients=team.owners,
                cost_filters=[
                    aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[tag_filter_value("team", team.team)])
                ],
                depends_on=topic_policy,
            )
            for team in args.teams
        }

        self.anomaly_monitor = aws.costexplorer.AnomalyMonitor(
            f"{name}-anomalies",
            name=physical_name(COST_EXPLORER, "mlp", env, "services"),
            monitor_type="DIMENSIONAL",
            monitor_dimension="SERVICE",
            opts=self.child_opts(),
        )
        threshold = aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
            dimension=aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                match_options=["GREATER_THAN_OR_EQUAL"],
                values=[_amount(args.anomaly_threshold_usd)],
            )
        )
        aws.costexplorer.AnomalySubscription(
            f"{name}-anomalies-immediate",
            name=physical_name(COST_EXPLORER, "mlp", env, "anomalies-immediate"),
            frequency="IMMEDIATE",
            monitor_arn_lists=[self.anomaly_monitor.arn],
            subscribers=[aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="SNS", address=self.topic.arn)],
            threshold_expression=threshold,
            opts=self.child_opts(depends_on=[topic_policy]),
        )
        if args.environment_recipients:
            aws.costexplorer.AnomalySubscription(
                f"{name}-anomalies-daily",
                name=physical_name(COST_EXPLORER, "mlp", env, "anomalies-daily"),
                frequency="DAILY",
                monitor_arn_lists=[self.anomaly_monitor.arn],
                subscribers=[
                    aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="EMAIL", address=email)
                    for email in args.environment_recipients
                ],
                threshold_expression=threshold,
                opts=self.child_opts(),
            )

        if args.activate_cost_allocation_tags:
            for key in ALLOCATION_TAG_KEYS:
                aws.costexplorer.CostAllocationTag(
                    f"{name}-tag-{key}", tag_key=key, status="Active", opts=self.child_opts()
                )

        self.register_outputs(
            {
                "alertTopicArn": self.topic.arn,
                "anomalyMonitorArn": self.anomaly_monitor.arn,
            }
        )

    def _budget(
        self,
        resource_name: str,
        *,
        budget_name: str,
        limit_usd: float,
        args: FinOpsArgs,
        recipients: tuple[str, ...],
        cost_filters: list[aws.budgets.BudgetCostFilterArgs] | None,
        depends_on: pulumi.Resource,
    ) -> aws.budgets.Budget:
        notifications = [
            aws.budgets.BudgetNotificationArgs(
                comparison_operator="GREATER_THAN",
                notification_type=kind,
                threshold=percent,
                threshold_type="PERCENTAGE",
                subscriber_sns_topic_arns=[self.topic.arn],
                subscriber_email_addresses=list(recipients),
            )
            for kind, percent in (
                ("FORECASTED", args.forecasted_alert_percent),
                ("ACTUAL", args.actual_alert_percent),
            )
        ]
        return aws.budgets.Budget(
            resource_name,
            name=budget_name,
            account_id=args.account_id,
            budget_type="COST",
            limit_amount=_amount(limit_usd),
            limit_unit="USD",
            time_unit="MONTHLY",
            cost_filters=cost_filters,
            notifications=notifications,
            opts=self.child_opts(depends_on=[depends_on]),
        )


def _amount(value: float) -> str:
    """A USD amount as the Budgets and Cost Explorer APIs take it: a decimal string."""
    return f"{value:.2f}"


def _topic_policy(topic_arn: str, account_id: str) -> str:
    """Only AWS Budgets and Cost Anomaly Detection, acting for this account, may publish."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "BudgetsPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": BUDGETS_PRINCIPAL},
                    "Action": "SNS:Publish",
                    "Resource": topic_arn,
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account_id},
                        "ArnLike": {"aws:SourceArn": f"arn:aws:budgets::{account_id}:*"},
                    },
                },
                {
                    "Sid": "CostAnomalyDetectionPublish",
                    "Effect": "Allow",
                    "Principal": {"Service": ANOMALY_PRINCIPAL},
                    "Action": "SNS:Publish",
                    "Resource": topic_arn,
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                },
            ],
        },
        sort_keys=True,
    )
