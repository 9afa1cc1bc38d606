"""The ECR repository of the drift job's image (the `evidently` monitoring engine), one per environment.

The monitoring-image workflow builds components/jobs/Dockerfile and pushes it here, tagged with the commit;
the stack runs the image by the digest the environment file pins (`monitoring_image_digest`), so what runs
is exactly what was reviewed. Tags are immutable, every push is scanned, and the layers are encrypted with
the environment key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.base import PlatformComponent
from components.naming import NameRule, physical_name
from components.tagging import CostTags

# ECR RepositoryName: 2..256, (?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)* (botocore ecr
# service-2.json).
ECR_REPOSITORY = NameRule(256, re.compile(r"[^a-z0-9._/-]"), lowercase=True, min_length=2)


def drift_job_repository(environment: str) -> str:
    """Name of the environment's drift-job repository (the workflow pushes to the same name)."""
    return physical_name(ECR_REPOSITORY, "mlp", environment, "drift-job")


def drift_job_image_uri(account_id: str, region: str, environment: str, digest: str) -> str:
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com/{drift_job_repository(environment)}@{digest}"


@dataclass(frozen=True)
class MonitoringImageArgs:
    """Inputs of `MonitoringImage`."""

    environment: str
    """Environment name: part of the repository's name."""
    kms_key_arn: pulumi.Input[str]
    """The environment key: encrypts the image layers."""
    protect: bool
    """Protect the repository (and its pushed images) from deletion."""


class MonitoringImage(PlatformComponent):
    """An immutable-tag, scan-on-push, KMS-encrypted ECR repository for the drift job."""

    repository: aws.ecr.Repository

    def __init__(
        self, name: str, args: MonitoringImageArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:monitoring_image:MonitoringImage", name, tags, opts)
        self.repository = aws.ecr.Repository(
            f"{name}-repository",
            name=drift_job_repository(args.environment),
            # A tag names one image forever: the workflow tags with the commit, the stack pins the digest.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration={"scan_on_push": True},
            encryption_configurations=[{"encryption_type": "KMS", "kms_key": args.kms_key_arn}],
            force_delete=False,
            opts=self.child_opts(protect=args.protect),
        )
        self.register_outputs({"repositoryUrl": self.repository.repository_url})
