"""Shared pieces of the triage tests: a moto world with an endpoint mid-rollout, its alarm and metrics, a
team topic read back through SQS, a monitoring report, and the clients the handler uses.

Two calls moto 5.2.1 cannot answer go through botocore's Stubber instead, on a second client: CloudWatch
DescribeAlarmHistory (moto raises NotImplementedError) and GetMetricData with percentile statistics (moto
fails on extended statistics); and SageMaker DescribeEndpoint, because moto's endpoint has no deployment
state (no PendingDeploymentSummary, no variant weights). Everything else is moto.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import Stubber

from components.functions.triage.gather import Clients
from components.functions.triage.settings import Settings, settings_from_dict

REGION = "eu-west-1"
ACCOUNT = "123456789012"  # moto's default account
ENV = "stg"
ENDPOINT = "stg-fraud-scoring"
ALARM = "stg-fraud-scoring-p99-latency"
DRIFT_ALARM = "stg-fraud-scoring-drift-amount"
REPORT_BUCKET = "stg-fraud-capture"
NEW_CONFIG = "stg-fraud-scoring-v15-1a2b3c4d"
OLD_CONFIG = "stg-fraud-scoring-v14-9f8e7d6c"
STOP_ROLLOUT = (
    "Put one rollback alarm into ALARM: `aws cloudwatch set-alarm-state --alarm-name stg-fraud-scoring-p99-latency`"
)
ROLL_BACK = "1. Revert the change that set `version: 15` and open a pull request."
CARD = "4111 1111 1111 1111"  # a Luhn-valid test card number
EMAIL = "jane.doe@example.com"
HOLDER = "Jane Q Cardholder"
PAYLOAD = json.dumps({"amount": 912.5, "card_number": CARD.replace(" ", ""), "cardholder_name": HOLDER, "email": EMAIL})


def config_doc(*, llm: dict[str, Any] | None = None, github: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "environment": ENV,
        "region": REGION,
        "account_id": ACCOUNT,
        "lookback_minutes": 60,
        "personal_fields": ["cardholder_name"],
        "models": [
            {
                "model": "fraud-scoring",
                "team": "fraud",
                "version": 15,
                "registry_group": "fraud-scoring",
                "endpoint": ENDPOINT,
                "rollout": "canary (bake_minutes 10, percent 25)",
                "runbook_url": "https://github.com/payments-co/ml-platform/blob/main/docs/runbooks/stg/fraud-scoring.md",
                "runbook_rollback": ROLL_BACK,
                "runbook_stop_rollout": STOP_ROLLOUT,
                "report_bucket": REPORT_BUCKET,
            }
        ],
        "notify_topics": {"fraud": f"arn:aws:sns:{REGION}:{ACCOUNT}:stg-fraud-notify"},
        "llm": llm,
        "github": github,
    }


def settings(**kwargs: Any) -> Settings:
    environ = {"DEPLOY_COMMIT": "0a1b2c3d4e5f"}
    if kwargs.get("llm"):
        environ |= {"GUARDRAIL_ID": "gr0123456789", "GUARDRAIL_VERSION": "1"}
    return settings_from_dict(config_doc(**kwargs), environ)


class Routed:
    """A client whose calls go to moto, except those `to_stub` picks, which go to a Stubber'd client."""

    def __init__(self, real: Any, stubbed: Any, to_stub: Callable[[str, dict[str, Any]], bool]) -> None:
        self._real, self._stubbed, self._to_stub = real, stubbed, to_stub

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        def call(**kwargs: Any) -> Any:
            target = self._stubbed if self._to_stub(operation, kwargs) else self._real
            return getattr(target, operation)(**kwargs)

        return call


def _percentiles(operation: str, kwargs: dict[str, Any]) -> bool:
    if operation == "describe_alarm_history":
        return True
    return operation == "get_metric_data" and any(
        q["MetricStat"]["Stat"].startswith("p") for q in kwargs["MetricDataQueries"]
    )


@dataclass
class World:
    clients: Clients
    cloudwatch_stub: Stubber
    sagemaker_stub: Stubber
    queue_url: str
    sqs: Any
    changed_at: datetime

    def messages(self) -> list[dict[str, Any]]:
        got = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
        messages: list[dict[str, Any]] = got.get("Messages", [])
        return messages


def dims(variant: str = "primary") -> list[dict[str, str]]:
    return [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": variant}]


def build_world(*, alarm_reason: str = "Threshold Crossed: 3 datapoints were greater than the threshold") -> World:
    """Call inside moto's mock_aws."""
    cw = boto3.client("cloudwatch", region_name=REGION)
    cw.put_metric_alarm(
        AlarmName=ALARM,
        AlarmDescription="Rolls back deployments of stg-fraud-scoring: p99 ModelLatency above 250 ms (SLO)",
        Namespace="AWS/SageMaker",
        MetricName="ModelLatency",
        Dimensions=dims(),
        ExtendedStatistic="p99",
        Period=60,
        EvaluationPeriods=3,
        Threshold=250_000.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason=alarm_reason)
    changed_at = cw.describe_alarms(AlarmNames=[ALARM])["MetricAlarms"][0]["StateUpdatedTimestamp"].astimezone(UTC)
    # Counts around the alarm, a day and a week before (the window is the hour before the state change).
    for offset, invocations, errors in (
        (timedelta(0), 1200, 40),
        (timedelta(days=1), 1000, 0),
        (timedelta(days=7), 900, 1),
    ):
        at = changed_at - offset - timedelta(minutes=10)
        cw.put_metric_data(
            Namespace="AWS/SageMaker",
            MetricData=[
                {"MetricName": "Invocations", "Dimensions": dims(), "Timestamp": at, "Value": invocations},
                {"MetricName": "Invocation5XXErrors", "Dimensions": dims(), "Timestamp": at, "Value": errors},
                {"MetricName": "Invocation4XXErrors", "Dimensions": dims(), "Timestamp": at, "Value": 0},
            ],
        )

    sm = boto3.client("sagemaker", region_name=REGION)
    sm.create_model(
        ModelName="m-v15", ExecutionRoleArn=f"arn:aws:iam::{ACCOUNT}:role/r", PrimaryContainer={"Image": "img"}
    )
    sm.create_endpoint_config(
        EndpointConfigName=OLD_CONFIG,
        ProductionVariants=[
            {"VariantName": "primary", "ModelName": "m-v15", "InitialInstanceCount": 2, "InstanceType": "ml.c5.xlarge"}
        ],
    )
    sm.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=OLD_CONFIG)

    sns = boto3.client("sns", region_name=REGION)
    topic = sns.create_topic(Name="stg-fraud-notify")["TopicArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName="fraud-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=REPORT_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})

    stubbed_cw = boto3.client("cloudwatch", region_name=REGION)
    cw_stub = Stubber(stubbed_cw)
    cw_stub.add_response(
        "describe_alarm_history",
        {
            "AlarmHistoryItems": [
                {
                    "AlarmName": ALARM,
                    "Timestamp": changed_at,
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": "Alarm updated from OK to ALARM",
                },
                {
                    "AlarmName": ALARM,
                    "Timestamp": changed_at - timedelta(days=3),
                    "HistoryItemType": "StateUpdate",
                    "HistorySummary": "Alarm updated from ALARM to OK",
                },
            ]
        },
        {
            "AlarmName": ALARM,
            "HistoryItemType": "StateUpdate",
            "MaxRecords": 10,
            "ScanBy": "TimestampDescending",
        },
    )
    for p50, p99 in ((40_000.0, 350_000.0), (38_000.0, 90_000.0), (37_000.0, 85_000.0)):
        cw_stub.add_response(
            "get_metric_data",
            {
                "MetricDataResults": [
                    {"Id": "v0m3", "Values": [p50], "StatusCode": "Complete"},
                    {"Id": "v0m4", "Values": [p99], "StatusCode": "Complete"},
                ]
            },
        )
    cw_stub.activate()

    stubbed_sm = boto3.client("sagemaker", region_name=REGION)
    sm_stub = Stubber(stubbed_sm)
    sm_stub.add_response(
        "describe_endpoint",
        {
            "EndpointName": ENDPOINT,
            "EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{ENDPOINT}",
            "EndpointConfigName": OLD_CONFIG,
            "EndpointStatus": "Updating",
            "CreationTime": changed_at - timedelta(days=30),
            "LastModifiedTime": changed_at - timedelta(minutes=12),
            "ProductionVariants": [
                {"VariantName": "primary", "CurrentWeight": 0.75, "DesiredWeight": 0.75, "CurrentInstanceCount": 2}
            ],
            "PendingDeploymentSummary": {
                "EndpointConfigName": NEW_CONFIG,
                "StartTime": changed_at - timedelta(minutes=12),
                "ProductionVariants": [
                    {
                        "VariantName": "primary",
                        "CurrentWeight": 0.25,
                        "DesiredWeight": 0.25,
                        "CurrentInstanceCount": 1,
                        "DesiredInstanceCount": 2,
                        "VariantStatus": [{"Status": "Baking", "StartTime": changed_at - timedelta(minutes=8)}],
                    }
                ],
            },
        },
        {"EndpointName": ENDPOINT},
    )
    sm_stub.activate()

    clients = Clients(
        cloudwatch=Routed(cw, stubbed_cw, _percentiles),
        sagemaker=stubbed_sm,
        s3=s3,
        sns=sns,
        secretsmanager=boto3.client("secretsmanager", region_name=REGION),
        dynamodb=boto3.client("dynamodb", region_name=REGION),
        bedrock_runtime=None,
    )
    return World(clients, cw_stub, sm_stub, queue_url, sqs, changed_at)


def alarm_event(reason: str = "Threshold Crossed", name: str = ALARM, state: str = "ALARM") -> dict[str, Any]:
    """The SNS event Lambda receives for a CloudWatch alarm notification."""
    message = {
        "AlarmName": name,
        "AlarmDescription": "Rolls back deployments of stg-fraud-scoring: p99 ModelLatency above 250 ms (SLO)",
        "NewStateValue": state,
        "NewStateReason": reason,
        "StateChangeTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        "Trigger": {
            "MetricName": "ModelLatency",
            "Namespace": "AWS/SageMaker",
            "ExtendedStatistic": "p99",
            "Dimensions": [{"value": ENDPOINT, "name": "EndpointName"}, {"value": "primary", "name": "VariantName"}],
            "Threshold": 250000.0,
            "ComparisonOperator": "GreaterThanThreshold",
        },
    }
    return {"Records": [{"EventSource": "aws:sns", "Sns": {"Message": json.dumps(message), "MessageAttributes": {}}}]}


def iter_strings(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from iter_strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from iter_strings(v)
    elif isinstance(value, str):
        yield value
