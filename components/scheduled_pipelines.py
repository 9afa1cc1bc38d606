"""What the feature and batch pipelines share: the pipeline resource, its EventBridge Scheduler schedule and an
alarm when an execution fails, plus the execution-role statements of a pipeline that runs processing jobs.

SageMaker Pipelines publish execution metrics (ExecutionStarted/Succeeded/Failed/Stopped) per PipelineName in
the AWS/Sagemaker/ModelBuildingPipeline namespace: section "SageMaker pipelines metrics" of
https://docs.aws.amazon.com/sagemaker/latest/dg/monitoring-cloudwatch.html (its index read 2026-11-30; the
namespace, metric and dimension as yet-another-cloudwatch-exporter's SageMaker pipeline support reads them, its
pipeline-name dimension parsed from the pipeline ARN). The alarm fires on any failed execution in an hour and
notifies the owning team's topic.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.config import Network
from components.iam import image_and_network_statements, job_key_statements, pull_image_statement
from components.naming import CLOUDWATCH_ALARM, EVENTBRIDGE_RULE, IAM_POLICY, IAM_ROLE, physical_name
from components.pipelines import SCHEDULER_SERVICE, _ecr_repository_arn, scheduler_policy_document

PIPELINE_METRICS_NAMESPACE = "AWS/Sagemaker/ModelBuildingPipeline"
FAILED_METRIC = "ExecutionFailed"
FAILURE_PERIOD_SECONDS = 3600


def add_pipeline(
    component: PlatformComponent,
    name: str,
    *,
    environment: str,
    account_id: str,
    owner: str,
    purpose: str,
    pipeline_name: str,
    description: str,
    role: aws.iam.Role,
    role_policy: aws.iam.RolePolicy,
    definition: pulumi.Input[str],
    schedule: str | None,
    schedule_timezone: str,
    alarm_topic_arn: pulumi.Input[str],
    kms_key_arn: pulumi.Input[str],
    depends_on: list[pulumi.Resource] | None = None,
) -> tuple[aws.sagemaker.Pipeline, aws.scheduler.Schedule | None, aws.cloudwatch.MetricAlarm]:
    """The pipeline (after its role's policy and `depends_on`), its schedule when `schedule` is set, and its
    failure alarm."""
    pipeline = aws.sagemaker.Pipeline(
        f"{name}-pipeline",
        pipeline_name=pipeline_name,
        pipeline_display_name=pipeline_name,
        pipeline_description=description,
        role_arn=role.arn,
        pipeline_definition=definition,
        opts=component.child_opts(depends_on=[role_policy, *(depends_on or [])]),
    )
    scheduled: aws.scheduler.Schedule | None = None
    if schedule:
        scheduler_role, scheduler_policy = component.service_role(
            f"{name}-scheduler-role",
            f"{name}-scheduler-policy",
            role_name=physical_name(IAM_ROLE, environment, owner, f"{purpose}-schedule"),
            description=f"Lets EventBridge Scheduler start {pipeline_name}",
            service=SCHEDULER_SERVICE,
            account_id=account_id,
            policy_name=physical_name(IAM_POLICY, environment, owner, f"{purpose}-schedule"),
            policy=pipeline.arn.apply(lambda arn: json.dumps(scheduler_policy_document(arn), sort_keys=True)),
        )
        scheduled = aws.scheduler.Schedule(
            f"{name}-schedule",
            name=physical_name(EVENTBRIDGE_RULE, environment, owner, purpose),
            description=f"Scheduled runs of {pipeline_name}",
            schedule_expression=schedule,
            schedule_expression_timezone=schedule_timezone,
            flexible_time_window={"mode": "OFF"},
            # The environment key encrypts the schedule's data (CreateSchedule KmsKeyArn, botocore scheduler
            # service-2.json; default: an AWS-owned key), as the training schedules do.
            kms_key_arn=kms_key_arn,
            # StartPipelineExecution with the parameters' defaults (a scheduled ingestion reads yesterday).
            target={"arn": pipeline.arn, "role_arn": scheduler_role.arn},
            opts=component.child_opts(depends_on=[scheduler_policy]),
        )
    alarm = aws.cloudwatch.MetricAlarm(
        f"{name}-alarm-failed",
        name=failure_alarm_name(environment, owner, purpose),
        alarm_description=f"An execution of {pipeline_name} failed: see its executions in SageMaker Studio",
        namespace=PIPELINE_METRICS_NAMESPACE,
        metric_name=FAILED_METRIC,
        dimensions={"PipelineName": pipeline_name},
        statistic="Sum",
        period=FAILURE_PERIOD_SECONDS,
        evaluation_periods=1,
        threshold=0,
        comparison_operator="GreaterThanThreshold",
        # No execution is no failure.
        treat_missing_data="notBreaching",
        alarm_actions=[alarm_topic_arn],
        opts=component.child_opts(),
    )
    return pipeline, scheduled, alarm


def failure_alarm_name(environment: str, owner: str, purpose: str) -> str:
    return physical_name(CLOUDWATCH_ALARM, environment, owner, purpose, "failed")


def processing_job_statements(
    *,
    region: str,
    account_id: str,
    role_arn: str,
    image: str,
    key_arn: str,
    bucket_arn: str,
    code_keys: list[str],
    report_prefix: str,
    network: Network | None,
) -> list[dict[str, Any]]:
    """A pipeline whose one step is a processing job running a script of this repository: its own jobs, its
    script, its report prefix, the environment key, its image, its logs, passing itself to SageMaker only."""
    prefix = f"arn:aws:sagemaker:{region}:{account_id}"
    return [
        {
            "Sid": "RunOwnProcessingJobs",
            "Effect": "Allow",
            "Action": [
                "sagemaker:CreateProcessingJob",
                "sagemaker:DescribeProcessingJob",
                "sagemaker:StopProcessingJob",
                "sagemaker:AddTags",
            ],
            "Resource": [f"{prefix}:processing-job/*"],
        },
        {
            "Sid": "ReadJobScript",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{key}" for key in code_keys],
        },
        {
            "Sid": "WriteOwnReports",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": [f"{bucket_arn}/{report_prefix}*"],
        },
        *job_key_statements(key_arn),
        pull_image_statement("PullJobImage", _ecr_repository_arn(image)),
        {
            "Sid": "WriteJobLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [f"arn:aws:logs:{region}:{account_id}:log-group:/aws/sagemaker/ProcessingJobs:*"],
        },
        {
            "Sid": "PassOnlyItselfToSageMaker",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [role_arn],
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
        },
        *image_and_network_statements(region, account_id, network),
    ]
