"""IAM documents shared by the components' roles: service trust policies, and the statements the SageMaker
execution roles (endpoints, monitoring jobs) share."""

from __future__ import annotations

import json
from typing import Any

from components.config import Network

# Actions that support no resource-level permissions, so IAM only accepts them with Resource "*" (Service
# Authorization Reference, "Resource types" column empty, read 2026-11-25):
# ecr:GetAuthorizationToken — https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html
# ec2:Describe* below — https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html
# SageMaker's execution role needs them to pull the image and, in a VPC, to attach network interfaces
# (https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-roles.html, "CreateModel API: Execution Role
# Permissions"). They form the policy's only statement on "*".
UNSCOPABLE_IMAGE_ACTIONS = ("ecr:GetAuthorizationToken",)
UNSCOPABLE_VPC_ACTIONS = (
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcs",
)


def image_and_network_statements(region: str, account_id: str, network: Network | None) -> list[dict[str, Any]]:
    """Network interfaces in the role's own subnets (in a VPC), then the one statement on "*": the
    unscopable image and VPC-describe actions."""
    statements: list[dict[str, Any]] = []
    unscopable = list(UNSCOPABLE_IMAGE_ACTIONS)
    if network:
        ec2 = f"arn:aws:ec2:{region}:{account_id}"
        statements.append(
            {
                "Sid": "AttachToOwnSubnets",
                "Effect": "Allow",
                "Action": [
                    "ec2:CreateNetworkInterface",
                    "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DeleteNetworkInterfacePermission",
                ],
                "Resource": [f"{ec2}:network-interface/*"]
                + [f"{ec2}:subnet/{s}" for s in network.subnet_ids]
                + [f"{ec2}:security-group/{g}" for g in network.security_group_ids],
            }
        )
        unscopable += UNSCOPABLE_VPC_ACTIONS
    statements.append(
        {"Sid": "ActionsWithoutResourceTypes", "Effect": "Allow", "Action": sorted(unscopable), "Resource": "*"}
    )
    return statements


# Where SageMaker processing jobs (the monitoring jobs of either engine) write their logs.
PROCESSING_LOG_GROUP = "/aws/sagemaker/ProcessingJobs"


def pull_image_statement(sid: str, repository_arn: str) -> dict[str, Any]:
    """Pull the image of one ECR repository (the token to log in is in `image_and_network_statements`)."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Resource": [repository_arn],
    }


def monitoring_job_statements(region: str, account_id: str, kms_key_arn: str) -> list[dict[str, Any]]:
    """What a monitoring job's role needs whichever engine runs it: read and write data under the environment
    key, and write the processing jobs' logs."""
    return [
        {
            "Sid": "UseEnvironmentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
            "Resource": [kms_key_arn],
        },
        {
            "Sid": "WriteOwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
            "Resource": [f"arn:aws:logs:{region}:{account_id}:log-group:{PROCESSING_LOG_GROUP}:*"],
        },
    ]


def monitoring_job_access_statements(
    region: str,
    account_id: str,
    network: Network | None,
    *,
    registry_decrypt: dict[str, Any] | None,
    ground_truth_uri: str | None,
) -> list[dict[str, Any]]:
    """The end of a monitoring job role's policy, whichever engine: in staging and prod the registry
    environment's key (the served version's baseline or reference data is in that environment's bucket,
    encrypted with its key, whose policy allows this account: components/foundation.py; the role needs the
    grant in its own policy too, or every run fails), the ground truth when model quality is monitored, then
    the image login and the network."""
    statements = [registry_decrypt] if registry_decrypt is not None else []
    if ground_truth_uri is not None:
        statements += ground_truth_statements(ground_truth_uri)
    return statements + image_and_network_statements(region, account_id, network)


def account_administers_key_statement(account_root: str) -> dict[str, Any]:
    """AWS's default key policy statement: the account administers the key, through IAM (the roles' policies)."""
    return {
        "Sid": "AccountAdministersKeyThroughIam",
        "Effect": "Allow",
        "Principal": {"AWS": account_root},
        "Action": "kms:*",
        "Resource": "*",
    }


def job_key_statements(key_arn: str) -> list[dict[str, Any]]:
    """What a SageMaker job's execution role needs of the environment key: encrypt and decrypt its data, and
    let SageMaker grant the key to the job's encrypted volumes (only to AWS resources)."""
    return [
        {
            "Sid": "UseEnvironmentKey",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": [key_arn],
        },
        {
            "Sid": "GrantKeyToJobVolumes",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant"],
            "Resource": [key_arn],
            "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
        },
    ]


def lambda_trust_policy() -> str:
    """Trust policy (JSON) of a Lambda function's execution role: Lambda's documented one
    (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html, read 2026-11-30), with no
    aws:SourceAccount condition, which Lambda does not document for this role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        },
        sort_keys=True,
    )


def ground_truth_statements(s3_uri: str) -> list[dict[str, Any]]:
    """Read the objects under the ground-truth prefix `s3_uri` (s3://bucket/prefix/) and list only that prefix:
    what a model-quality job (either monitoring engine) needs of the team's labels."""
    bucket, _, key = s3_uri.removeprefix("s3://").partition("/")
    key = key.rstrip("/")
    objects = f"{key}/*" if key else "*"
    return [
        {
            "Sid": "ReadGroundTruth",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"arn:aws:s3:::{bucket}/{objects}"],
        },
        {
            "Sid": "ListGroundTruth",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [f"arn:aws:s3:::{bucket}"],
            "Condition": {"StringLike": {"s3:prefix": [objects]}},
        },
    ]


def service_trust_policy(service: str, account_id: str) -> str:
    """Trust policy (JSON) letting one AWS service assume the role, only on behalf of this account (the
    aws:SourceAccount condition guards against the confused deputy)."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
                }
            ],
        },
        sort_keys=True,
    )
