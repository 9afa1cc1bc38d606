"""SageMaker Feature Store: the environment's feature catalog, each team's feature groups, their ingestion and
backfill pipelines and online/offline parity checks, and the team's reader and writer roles.

- `FeatureCatalog` (one per environment with feature groups): the Glue database the offline stores' tables
  live in, and this repository's job scripts (components/jobs/) uploaded to the artifact bucket.
- `TeamFeatureGroup` (one per group): the feature group, encrypted with the environment key online and
  offline, its offline store under `features/<group>/offline/` of the artifact bucket with its Glue table,
  protected where `protect_stateful_resources` is true; the role Feature Store writes the offline store with;
  an ingestion pipeline (StartDate/EndDate parameters: a backfill is a run with a date range) and a parity
  pipeline, each scheduled, each alarming the team on failure; the parity alarm on the mismatch share.
- `TeamFeatureAccess` (one per team with groups): `<env>-<team>-features-reader` and `-writer`, assumable by
  SageMaker and by the account's principals an administrator allows, limited to the team's groups.

IAM actions: the Feature Store runtime signs as `sagemaker` (botocore sagemaker-featurestore-runtime
service-2.json, `signingName`), so its calls are `sagemaker:GetRecord`, `BatchGetRecord`, `PutRecord`,
`DeleteRecord` on the feature group; the read-only and read-write sets follow the feature-group RAM permissions
(https://docs.aws.amazon.com/sagemaker/latest/dg/feature-store-cross-account-access.html, read 2026-11-30).
The offline store role's S3 actions are those of AWS's AmazonSageMakerFeatureStoreAccess policy (s3:PutObject,
s3:GetBucketAcl, s3:PutObjectAcl), scoped to the group's prefix, plus the key
(https://docs.aws.amazon.com/sagemaker/latest/dg/feature-store-cross-account-access-offline-store.html, read
2026-11-30); the Iceberg additions (read/delete, Glue table update, for compaction) are our reading, not a
cited list.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components import rendered_pipelines
from components.base import PlatformComponent
from components.config import Network
from components.config.features import FeatureGroup
from components.job_definitions import ProcessingJobSpec
from components.naming import IAM_POLICY, IAM_ROLE, SAGEMAKER_PIPELINE, NameRule, physical_name
from components.scheduled_pipelines import add_pipeline, processing_job_statements
from components.sdk_images import builtin_image_uri
from components.tagging import CostTags

JOBS_DIR = Path(__file__).with_name("jobs")
INGEST_SCRIPT = "ingest_features.py"
PARITY_SCRIPT = "feature_parity.py"
# botocore sagemaker FeatureGroupName: 1..64, [a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}.
FEATURE_GROUP = NameRule(64, re.compile(r"[^a-zA-Z0-9_-]"))
# Glue database and table names: at most 255 characters (botocore sagemaker DataCatalogConfig shapes Database,
# TableName); we keep to lower-case letters, digits and underscores, which Athena reads without quoting.
GLUE_NAME = NameRule(255, re.compile(r"[^a-z0-9_]"), lowercase=True)
GLUE_CATALOG = "AwsDataCatalog"
PARITY_NAMESPACE = "MLPlatform/FeatureStore"
PARITY_METRIC = "FeatureMismatchPercent"
SKLEARN_VERSION = "1.2-1"
JOB_VOLUME_GB = 30
SAGEMAKER_SERVICE = "sagemaker.amazonaws.com"


def feature_group_name(environment: str, group: str) -> str:
    return physical_name(FEATURE_GROUP, environment, group)


def glue_database_name(environment: str) -> str:
    return physical_name(GLUE_NAME, environment, "features").replace("-", "_")


def glue_table_name(environment: str, group: str) -> str:
    return physical_name(GLUE_NAME, environment, group).replace("-", "_")


def offline_prefix(group: str) -> str:
    return f"features/{group}/offline/"


def reports_prefix(group: str, purpose: str) -> str:
    return f"features/{group}/reports/{purpose}/"


def athena_prefix(group: str) -> str:
    return f"features/{group}/athena/"


def script_key(script: str) -> str:
    return f"code/platform/jobs/{script}"


def parity_alarm_name(environment: str, group: str) -> str:
    from components.naming import CLOUDWATCH_ALARM

    return physical_name(CLOUDWATCH_ALARM, environment, group, "feature-parity")


@dataclass(frozen=True)
class FeatureCatalogArgs:
    """Inputs of `FeatureCatalog`."""

    environment: str
    bucket_name: pulumi.Input[str]
    """The artifact bucket the scripts are uploaded to."""
    kms_key_arn: pulumi.Input[str]
    """Encrypts the uploaded scripts."""


class FeatureCatalog(PlatformComponent):
    """The environment's Glue database of offline-store tables and the feature jobs' scripts."""

    database: aws.glue.CatalogDatabase

    def __init__(
        self, name: str, args: FeatureCatalogArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:features:FeatureCatalog", name, tags, opts)
        self.database = aws.glue.CatalogDatabase(
            f"{name}-database",
            name=glue_database_name(args.environment),
            description=f"Offline stores of the {args.environment} feature groups (tables created by Feature Store)",
            opts=self.child_opts(),
        )
        self.scripts: dict[str, aws.s3.BucketObjectv2] = {}
        for script in (INGEST_SCRIPT, PARITY_SCRIPT):
            self.scripts[script] = aws.s3.BucketObjectv2(
                f"{name}-{script.removesuffix('.py').replace('_', '-')}",
                bucket=args.bucket_name,
                key=script_key(script),
                # The script's text is an input, so a change to it shows in the plan and redeploys it.
                content=(JOBS_DIR / script).read_text(encoding="utf-8"),
                content_type="text/x-python",
                server_side_encryption="aws:kms",
                kms_key_id=args.kms_key_arn,
                bucket_key_enabled=True,
                opts=self.child_opts(),
            )
        self.register_outputs({"database": self.database.name})


@dataclass(frozen=True)
class TeamFeatureGroupArgs:
    """Inputs of `TeamFeatureGroup`; `composition.team_feature_group_args` builds them from the environment file."""

    environment: str
    account_id: str
    region: str
    group: FeatureGroup
    """The group's section of the environment file (validated)."""
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    database: pulumi.Input[str]
    """Glue database of the offline store's table."""
    network: Network | None
    """VPC placement of the ingestion and parity jobs."""
    protect_stateful: bool
    """Protect the feature group (its online store holds the only copy of current values) from deletion."""
    failure_topic_arn: pulumi.Input[str]
    """The team's topic a failed ingestion or parity run notifies."""
    parity_topic_arn: pulumi.Input[str] | None
    """The team's topic of the parity alarm's severity."""
    depends_on: tuple[pulumi.Resource, ...] = ()
    """The catalog: the database and the scripts exist before the group and its pipelines."""


class TeamFeatureGroup(PlatformComponent):
    """One SageMaker Feature Store feature group of a team, its ingestion and its parity check."""

    feature_group: aws.sagemaker.FeatureGroup
    ingestion: aws.sagemaker.Pipeline | None
    parity: aws.sagemaker.Pipeline | None

    def __init__(
        self, name: str, args: TeamFeatureGroupArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:features:TeamFeatureGroup", name, tags, opts)
        group = args.group
        env = args.environment
        self.group_name = feature_group_name(env, group.name)
        group_arn = f"arn:aws:sagemaker:{args.region}:{args.account_id}:feature-group/{self.group_name.lower()}"

        store_role, store_policy = self.service_role(
            f"{name}-store-role",
            f"{name}-store-policy",
            role_name=physical_name(IAM_ROLE, env, group.name, "feature-store"),
            description=f"Feature Store writes the offline store of {self.group_name} with this role",
            service=SAGEMAKER_SERVICE,
            account_id=args.account_id,
            policy_name=physical_name(IAM_POLICY, env, group.name, "feature-store"),
            policy=pulumi.Output.all(args.bucket_arn, args.kms_key_arn, args.database).apply(
                lambda v: json.dumps(offline_store_policy(args, str(v[0]), str(v[1]), str(v[2])), sort_keys=True)
            ),
        )
        online: aws.sagemaker.FeatureGroupOnlineStoreConfigArgsDict = {"enable_online_store": group.online.enabled}
        if group.online.enabled:
            online["security_config"] = {"kms_key_id": args.kms_key_arn}
            if group.online.ttl:
                online["ttl_duration"] = {"unit": group.online.ttl.unit, "value": group.online.ttl.value}
        offline: aws.sagemaker.FeatureGroupOfflineStoreConfigArgsDict | None = None
        if group.offline.enabled:
            offline = {
                "s3_storage_config": {
                    "s3_uri": pulumi.Output.concat("s3://", args.bucket_name, "/", offline_prefix(group.name)),
                    "kms_key_id": args.kms_key_arn,
                },
                "disable_glue_table_creation": False,
                "data_catalog_config": {
                    "catalog": GLUE_CATALOG,
                    "database": args.database,
                    "table_name": glue_table_name(env, group.name),
                },
                "table_format": group.offline.table_format,
            }
        self.feature_group = aws.sagemaker.FeatureGroup(
            f"{name}-group",
            feature_group_name=self.group_name,
            description=group.description or f"{group.name} features of team {group.team}",
            record_identifier_feature_name=group.record_identifier,
            event_time_feature_name=group.event_time,
            feature_definitions=[
                aws.sagemaker.FeatureGroupFeatureDefinitionArgsDict(feature_name=f.name, feature_type=f.type)
                for f in group.features
            ],
            online_store_config=online,
            offline_store_config=offline,
            role_arn=store_role.arn,
            opts=self.child_opts(
                protect=args.protect_stateful,
                depends_on=[store_policy, *args.depends_on],
                # Every setting but the description and TTL replaces the group (its data with it): a
                # new group is created before the old one is deleted only if names differ, so delete first.
                delete_before_replace=True,
            ),
        )

        image = builtin_image_uri("sklearn", SKLEARN_VERSION, args.region)
        self.ingestion = None
        if group.ingestion:
            ingestion = group.ingestion
            self.ingestion = self._job_pipeline(
                f"{name}-ingestion",
                args,
                purpose="ingestion",
                description=f"Ingests and backfills {self.group_name} from s3://<artifacts>/{ingestion.source_prefix}",
                image=image,
                instance_type=ingestion.instance_type,
                max_runtime_seconds=ingestion.max_runtime_minutes * 60,
                script=INGEST_SCRIPT,
                extra_statements=lambda bucket_arn: ingestion_statements(
                    group_arn, bucket_arn, ingestion.source_prefix
                ),
                arguments=lambda bucket: (
                    ("--feature-group", self.group_name),
                    ("--region", args.region),
                    ("--features", ",".join(f.name for f in group.features)),
                ),
                parameters=lambda bucket: (
                    ("SourceData", f"s3://{bucket}/{ingestion.source_prefix}"),
                    ("StartDate", "yesterday"),
                    ("EndDate", "yesterday"),
                ),
                schedule=ingestion.schedule,
                schedule_timezone=ingestion.schedule_timezone,
            )
        self.parity = None
        self.parity_alarm: aws.cloudwatch.MetricAlarm | None = None
        if group.parity and args.parity_topic_arn is not None:
            parity = group.parity
            ttl = group.online.ttl.seconds if group.online.ttl else 0
            self.parity = self._job_pipeline(
                f"{name}-parity",
                args,
                purpose="feature-parity",
                description=f"Compares sampled records of {self.group_name} in the online and offline stores",
                image=image,
                instance_type=parity.instance_type,
                max_runtime_seconds=3600,
                script=PARITY_SCRIPT,
                extra_statements=lambda bucket_arn: parity_statements(args, group_arn, bucket_arn),
                arguments=lambda bucket: (
                    ("--feature-group", self.group_name),
                    ("--region", args.region),
                    ("--feature-types", ",".join(f"{f.name}:{f.type}" for f in group.features)),
                    ("--record-identifier", group.record_identifier),
                    ("--event-time", group.event_time),
                    ("--database", glue_database_name(env)),
                    ("--table", glue_table_name(env, group.name)),
                    ("--athena-output", f"s3://{bucket}/{athena_prefix(group.name)}"),
                    ("--namespace", PARITY_NAMESPACE),
                    ("--max-age-seconds", str(ttl)),
                ),
                parameters=lambda bucket: (("SampleSize", str(parity.sample_size)),),
                schedule=parity.schedule,
                schedule_timezone=parity.schedule_timezone,
            )
            self.parity_alarm = aws.cloudwatch.MetricAlarm(
                f"{name}-alarm-parity",
                name=parity_alarm_name(env, group.name),
                alarm_description=(
                    f"More than {parity.max_mismatch_percent}% of sampled feature values of {self.group_name} "
                    "differ between the online and the offline store"
                ),
                namespace=PARITY_NAMESPACE,
                metric_name=PARITY_METRIC,
                dimensions={"FeatureGroup": self.group_name},
                statistic="Maximum",
                period=86400,
                evaluation_periods=1,
                threshold=parity.max_mismatch_percent,
                comparison_operator="GreaterThanThreshold",
                # A check that did not run is the failure alarm's business.
                treat_missing_data="notBreaching",
                alarm_actions=[args.parity_topic_arn],
                ok_actions=[args.parity_topic_arn],
                opts=self.child_opts(),
            )
        self.register_outputs({"featureGroupName": self.feature_group.feature_group_name})

    def _job_pipeline(
        self,
        name: str,
        args: TeamFeatureGroupArgs,
        *,
        purpose: str,
        description: str,
        image: str,
        instance_type: str,
        max_runtime_seconds: int,
        script: str,
        extra_statements: Any,
        arguments: Any,
        parameters: Any,
        schedule: str | None,
        schedule_timezone: str,
    ) -> aws.sagemaker.Pipeline:
        group = args.group
        env = args.environment
        pipeline_name = physical_name(SAGEMAKER_PIPELINE, env, group.name, purpose)
        role_name = physical_name(IAM_ROLE, env, group.name, purpose)
        role_arn = f"arn:aws:iam::{args.account_id}:role/{role_name}"
        reports = reports_prefix(group.name, purpose)

        def policy(bucket_arn: str, key_arn: str) -> str:
            statements = processing_job_statements(
                region=args.region,
                account_id=args.account_id,
                role_arn=role_arn,
                image=image,
                key_arn=key_arn,
                bucket_arn=bucket_arn,
                code_keys=[script_key(script)],
                report_prefix=reports,
                network=args.network,
            )
            return json.dumps({"Version": "2012-10-17", "Statement": statements + extra_statements(bucket_arn)})

        role, role_policy = self.service_role(
            f"{name}-role",
            f"{name}-role-policy",
            role_name=role_name,
            description=f"Runs {pipeline_name} and its processing job",
            service=SAGEMAKER_SERVICE,
            account_id=args.account_id,
            policy_name=physical_name(IAM_POLICY, env, group.name, purpose),
            policy=pulumi.Output.all(args.bucket_arn, args.kms_key_arn).apply(lambda v: policy(str(v[0]), str(v[1]))),
        )
        network = args.network

        def spec(role: str, bucket: str, key: str) -> ProcessingJobSpec:
            return ProcessingJobSpec(
                pipeline_name=pipeline_name,
                region=args.region,
                role_arn=role,
                bucket=bucket,
                environment=env,
                step_name="IngestFeatures" if script == INGEST_SCRIPT else "CheckParity",
                image=image,
                instance_type=instance_type,
                volume_size_gb=JOB_VOLUME_GB,
                max_runtime_seconds=max_runtime_seconds,
                code_uri=f"s3://{bucket}/{script_key(script)}",
                report_uri=f"s3://{bucket}/{reports}",
                kms_key_arn=key,
                arguments=(*arguments(bucket), ("--kms-key", key)) if script == PARITY_SCRIPT else arguments(bucket),
                parameters=parameters(bucket),
                subnet_ids=tuple(network.subnet_ids) if network else (),
                security_group_ids=tuple(network.security_group_ids) if network else (),
            )

        definition = pulumi.Output.all(role.arn, args.bucket_name, args.kms_key_arn).apply(
            lambda v: rendered_pipelines.definition(
                spec(str(v[0]), str(v[1]), str(v[2])), f"features-{group.name}-{purpose}"
            )
        )
        pipeline, _, _ = add_pipeline(
            self,
            name,
            environment=env,
            account_id=args.account_id,
            owner=group.name,
            purpose=purpose,
            pipeline_name=pipeline_name,
            description=description,
            role=role,
            role_policy=role_policy,
            definition=definition,
            schedule=schedule,
            schedule_timezone=schedule_timezone,
            alarm_topic_arn=args.failure_topic_arn,
            kms_key_arn=args.kms_key_arn,
        )
        return pipeline


def offline_store_policy(args: TeamFeatureGroupArgs, bucket_arn: str, key_arn: str, database: str) -> dict[str, Any]:
    """What Feature Store does with the group's role: write (and for Iceberg, compact) the offline store."""
    prefix = offline_prefix(args.group.name)
    iceberg = args.group.offline.table_format == "Iceberg"
    glue = f"arn:aws:glue:{args.region}:{args.account_id}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteOfflineStore",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:PutObjectAcl"] + (["s3:GetObject", "s3:DeleteObject"] if iceberg else []),
            "Resource": [f"{bucket_arn}/{prefix}*"],
        },
        {
            "Sid": "CheckOfflineStoreBucket",
            "Effect": "Allow",
            "Action": ["s3:GetBucketAcl"] + (["s3:ListBucket"] if iceberg else []),
            "Resource": [bucket_arn],
        },
        {
            "Sid": "UseEnvironmentKey",
            "Effect": "Allow",
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": [key_arn],
        },
    ]
    if iceberg:
        statements.append(
            {
                "Sid": "MaintainOfflineTable",
                "Effect": "Allow",
                "Action": ["glue:GetTable", "glue:UpdateTable"],
                "Resource": [
                    f"{glue}:catalog",
                    f"{glue}:database/{database}",
                    f"{glue}:table/{database}/{glue_table_name(args.environment, args.group.name)}",
                ],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def ingestion_statements(group_arn: str, bucket_arn: str, source_prefix: str) -> list[dict[str, Any]]:
    """Read the source prefix, write records to this group."""
    return [
        {
            "Sid": "ListSource",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket_arn],
            "Condition": {"StringLike": {"s3:prefix": [f"{source_prefix}*"]}},
        },
        {
            "Sid": "ReadSource",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{source_prefix}*"],
        },
        {"Sid": "WriteRecords", "Effect": "Allow", "Action": ["sagemaker:PutRecord"], "Resource": [group_arn]},
    ]


def parity_statements(args: TeamFeatureGroupArgs, group_arn: str, bucket_arn: str) -> list[dict[str, Any]]:
    """Query the offline table with Athena (primary workgroup, results in its own prefix), read the online
    store, publish the metric in its namespace only."""
    env = args.environment
    database = glue_database_name(env)
    glue = f"arn:aws:glue:{args.region}:{args.account_id}"
    group = args.group.name
    return [
        {
            "Sid": "QueryOfflineStore",
            "Effect": "Allow",
            "Action": ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"],
            "Resource": [f"arn:aws:athena:{args.region}:{args.account_id}:workgroup/primary"],
        },
        {
            "Sid": "ReadOfflineTable",
            "Effect": "Allow",
            "Action": ["glue:GetDatabase", "glue:GetTable", "glue:GetPartitions"],
            "Resource": [
                f"{glue}:catalog",
                f"{glue}:database/{database}",
                f"{glue}:table/{database}/{glue_table_name(env, group)}",
            ],
        },
        {
            "Sid": "ListOfflineStoreAndResults",
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
            "Resource": [bucket_arn],
            "Condition": {"StringLike": {"s3:prefix": [f"{offline_prefix(group)}*", f"{athena_prefix(group)}*"]}},
        },
        {
            "Sid": "ReadOfflineStore",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{offline_prefix(group)}*"],
        },
        {
            "Sid": "QueryResults",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": [f"{bucket_arn}/{athena_prefix(group)}*"],
        },
        {
            "Sid": "ReadOnlineStore",
            "Effect": "Allow",
            "Action": ["sagemaker:BatchGetRecord", "sagemaker:GetRecord"],
            "Resource": [group_arn],
        },
        {
            # PutMetricData has no resource type: scoped by its namespace condition instead.
            "Sid": "PublishParityMetric",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": PARITY_NAMESPACE}},
        },
    ]


@dataclass(frozen=True)
class TeamFeatureAccessArgs:
    """Inputs of `TeamFeatureAccess`."""

    environment: str
    account_id: str
    region: str
    team: str
    groups: tuple[str, ...]
    """The team's feature group names (in the environment file)."""
    offline_groups: tuple[str, ...]
    """Those with an offline store (readers may read its files)."""
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]


class TeamFeatureAccess(PlatformComponent):
    """The team's reader and writer roles, limited to the team's feature groups."""

    reader: aws.iam.Role
    writer: aws.iam.Role

    def __init__(
        self, name: str, args: TeamFeatureAccessArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:features:TeamFeatureAccess", name, tags, opts)
        roles = {}
        for access in ("reader", "writer"):
            role = aws.iam.Role(
                f"{name}-{access}",
                name=physical_name(IAM_ROLE, args.environment, args.team, f"features-{access}"),
                description=f"{access.capitalize()} of team {args.team}'s feature groups in {args.environment}",
                assume_role_policy=json.dumps(access_trust_policy(args.account_id), sort_keys=True),
                opts=self.child_opts(),
            )
            aws.iam.RolePolicy(
                f"{name}-{access}-policy",
                name=physical_name(IAM_POLICY, args.environment, args.team, f"features-{access}"),
                role=role.id,
                policy=_access_policy_json(args, access),
                opts=self.child_opts(),
            )
            roles[access] = role
        self.reader, self.writer = roles["reader"], roles["writer"]
        self.register_outputs({"readerArn": self.reader.arn, "writerArn": self.writer.arn})


def _access_policy_json(args: TeamFeatureAccessArgs, access: str) -> pulumi.Output[str]:
    return pulumi.Output.all(args.bucket_arn, args.kms_key_arn).apply(
        lambda v: json.dumps(access_policy(args, access, str(v[0]), str(v[1])), sort_keys=True)
    )


def access_trust_policy(account_id: str) -> dict[str, Any]:
    """SageMaker jobs of this account, and this account's principals that an identity policy allows to
    assume the role (the account root delegates to IAM; no other account)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": SAGEMAKER_SERVICE},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
            {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account_id}:root"}, "Action": "sts:AssumeRole"},
        ],
    }


def access_policy(args: TeamFeatureAccessArgs, access: str, bucket_arn: str, key_arn: str) -> dict[str, Any]:
    prefix = f"arn:aws:sagemaker:{args.region}:{args.account_id}:feature-group"
    arns = [f"{prefix}/{feature_group_name(args.environment, g).lower()}" for g in args.groups]
    if access == "writer":
        return {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "WriteTeamRecords",
                    "Effect": "Allow",
                    "Action": ["sagemaker:PutRecord", "sagemaker:DeleteRecord", "sagemaker:DescribeFeatureGroup"],
                    "Resource": arns,
                },
                {
                    "Sid": "UseEnvironmentKey",
                    "Effect": "Allow",
                    "Action": ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"],
                    "Resource": [key_arn],
                },
            ],
        }
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadTeamRecords",
            "Effect": "Allow",
            "Action": ["sagemaker:GetRecord", "sagemaker:BatchGetRecord", "sagemaker:DescribeFeatureGroup"],
            "Resource": arns,
        },
        {"Sid": "UseEnvironmentKey", "Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key_arn]},
    ]
    if args.offline_groups:
        statements += offline_read_statements(bucket_arn, args.offline_groups)
    return {"Version": "2012-10-17", "Statement": statements}


def offline_read_statements(bucket_arn: str, groups: tuple[str, ...] | list[str]) -> list[dict[str, Any]]:
    """List and read the offline stores of `groups` (training sets are built from them)."""
    return [
        {
            "Sid": "ListOfflineStores",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket_arn],
            "Condition": {"StringLike": {"s3:prefix": [f"{offline_prefix(g)}*" for g in groups]}},
        },
        {
            "Sid": "ReadOfflineStores",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{offline_prefix(g)}*" for g in groups],
        },
    ]


class ModelFeatureAccess(PlatformComponent):
    """What a model's `features:` grants: its training pipeline may read those groups' offline stores (training
    sets are built from their history). Serving containers are network-isolated and cannot call the online
    store: the caller sends the features it read with the team's reader role."""

    def __init__(
        self,
        name: str,
        *,
        environment: str,
        model: str,
        groups: tuple[str, ...],
        training_role: aws.iam.Role,
        bucket_arn: pulumi.Input[str],
        tags: CostTags,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("mlplatform:features:ModelFeatureAccess", name, tags, opts)
        self.policy = aws.iam.RolePolicy(
            f"{name}-policy",
            name=physical_name(IAM_POLICY, environment, model, "features"),
            role=training_role.id,
            policy=pulumi.Output.from_input(bucket_arn).apply(
                lambda arn: json.dumps(
                    {"Version": "2012-10-17", "Statement": offline_read_statements(str(arn), groups)}, sort_keys=True
                )
            ),
            opts=self.child_opts(),
        )
        self.register_outputs({})
