"""Secure defaults: the training schedule is encrypted with the environment key, and every bucket's lifecycle
aborts incomplete multipart uploads; field names checked against botocore's service models."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from mlp.plan import Plan, build_plan
from tests.conftest import resources_of
from tests.mlp.fixture_environments import ENVIRONMENT, write_environment

TRAINING = (
    "      data_capture: {sampling_percent: 10, retention_days: 7}\n"
    "    training:\n"
    "      metric: {name: auc, minimum: 0.8}\n"
    "      schedule: cron(0 3 ? * SUN *)\n"
    "      schedule_timezone: Europe/Dublin\n"
)


def shapes(service: str) -> dict[str, Any]:
    spec = importlib.util.find_spec("botocore")
    assert spec is not None and spec.submodule_search_locations
    folder = Path(next(iter(spec.submodule_search_locations))) / "data" / service
    latest = max(p for p in folder.iterdir() if p.is_dir())
    raw = gzip.decompress((latest / "service-2.json.gz").read_bytes())
    found: dict[str, Any] = json.loads(raw)["shapes"]
    return found


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    root = write_environment(tmp_path_factory.mktemp("secure"), text=ENVIRONMENT + TRAINING)
    return build_plan("dev", root)


def test_schedule_uses_the_environment_key(plan: Plan) -> None:
    # CreateSchedule takes KmsKeyArn, a key (or alias) ARN (botocore scheduler service-2.json).
    scheduler = shapes("scheduler")
    assert "KmsKeyArn" in scheduler["CreateScheduleInput"]["members"]
    [schedule] = resources_of(plan, "aws:scheduler/schedule:Schedule")
    encryption = resources_of(
        plan, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    environment_keys = {
        rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
        for r in encryption
        for rule in r["inputs"]["rules"]
    }
    [environment_key] = environment_keys
    assert environment_key.startswith("arn:aws:kms:eu-west-1:111111111111:key/")
    assert schedule["inputs"]["kmsKeyArn"] == environment_key


def test_every_bucket_aborts_incomplete_uploads(plan: Plan) -> None:
    # LifecycleRule.AbortIncompleteMultipartUpload.DaysAfterInitiation (botocore s3 service-2.json).
    s3 = shapes("s3")
    assert "AbortIncompleteMultipartUpload" in s3["LifecycleRule"]["members"]
    assert "DaysAfterInitiation" in s3["AbortIncompleteMultipartUpload"]["members"]
    buckets = resources_of(plan, "aws:s3/bucket:Bucket")
    lifecycles = resources_of(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    assert len(buckets) == 2, "the artifact bucket and the capture bucket"
    assert {r["parent"] for r in lifecycles} == {r["parent"] for r in buckets}
    for lifecycle in lifecycles:
        for rule in lifecycle["inputs"]["rules"]:
            assert rule["status"] == "Enabled"
            assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] >= 1
