"""Cost tags: which types take tags (from the provider SDK) and how the transform fills them."""

from __future__ import annotations

from collections.abc import Awaitable

import pulumi
import pytest

from components.tagging import CostTags, cost_tags_transform, is_taggable

TAGS = CostTags(environment="prod", team="fraud", cost_center="CC-4100", repository="o/r", model="fraud-scoring")


@pytest.mark.parametrize(
    ("type_token", "taggable"),
    [
        ("aws:s3/bucket:Bucket", True),
        ("aws:kms/key:Key", True),
        ("aws:sagemaker/endpoint:Endpoint", True),
        ("aws:kms/alias:Alias", False),
        ("aws:s3/bucketPolicy:BucketPolicy", False),
        ("pulumi:providers:aws", False),
        ("kubernetes:core/v1:Namespace", False),
        ("aws:nosuchmodule/thing:Thing", False),
    ],
)
def test_taggable_types_come_from_the_provider_sdk(type_token: str, taggable: bool) -> None:
    assert is_taggable(type_token) is taggable


def run(props: dict[str, object], type_: str = "aws:s3/bucket:Bucket", custom: bool = True) -> dict[str, object]:
    result = cost_tags_transform(TAGS)(
        pulumi.ResourceTransformArgs(custom=custom, type_=type_, name="x", props=props, opts=pulumi.ResourceOptions())
    )
    assert not isinstance(result, Awaitable)
    return dict(result.props) if result else props


def test_missing_tags_are_added_with_the_model_tag() -> None:
    assert run({"bucket": "b"})["tags"] == {
        "environment": "prod",
        "team": "fraud",
        "cost-center": "CC-4100",
        "managed-by": "pulumi/ml-platform",
        "repository": "o/r",
        "model": "fraud-scoring",
    }


def test_tags_already_set_by_a_nearer_component_win() -> None:
    tags = run({"tags": {"team": "risk", "purpose": "capture"}})["tags"]
    assert isinstance(tags, dict)
    assert tags["team"] == "risk"
    assert tags["purpose"] == "capture"
    assert tags["cost-center"] == "CC-4100"


def test_untaggable_types_and_components_are_left_alone() -> None:
    assert "tags" not in run({"name": "alias/x"}, type_="aws:kms/alias:Alias")
    assert "tags" not in run({}, type_="mlplatform:foundation:EnvironmentFoundation", custom=False)
