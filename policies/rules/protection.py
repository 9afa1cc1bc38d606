"""Reliability: stateful resources — model registries, data buckets, feature groups — are protected from deletion.

Where protection is required is configuration: this rule's enforcement level in the environment's `policies`
section (disabled where `protect_stateful_resources` is false and data is disposable).
"""

from __future__ import annotations

from policies.rules.base import Resource, RuleConfig, resource_rule

STATEFUL = {
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": "model registry",
    "aws:s3/bucket:Bucket": "data bucket",
    # The online store holds the only copy of the current feature values.
    "aws:sagemaker/featureGroup:FeatureGroup": "feature group",
}


@resource_rule(
    "stateful-resources-protected",
    "Model registries and data buckets carry the protect option so `pulumi destroy` cannot delete them.",
)
def stateful_resources_protected(r: Resource, _config: RuleConfig) -> list[str]:
    what = STATEFUL.get(str(r.get("type")))
    if what is None or r.get("protect") is True:
        return []
    return [f"the {what} is not protected: create it with protect=True (protect_stateful_resources in the env file)"]


RULES = (stateful_resources_protected,)
