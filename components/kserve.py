"""A model version served as a KServe InferenceService, rolled out with the model's shared rollout settings.

KServe splits traffic between the last revision that took 100% and the new one by the predictor's
`canaryTrafficPercent`; the first revision of a service takes all traffic, and canary rollouts need
KServe's serverless deployment mode
(https://kserve.github.io/website/docs/model-serving/predictive-inference/rollout-strategies/canary,
read 2026-11-25).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.base import PlatformComponent
from components.config.kubernetes import KServeSettings
from components.config.serving import AllAtOnce, Canary, Linear, Rolling
from components.kubernetes import cost_labels
from components.tagging import CostTags

KSERVE_API_VERSION = "serving.kserve.io/v1beta1"
DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"


def canary_traffic_percent(rollout: AllAtOnce | Canary | Linear | Rolling) -> int | None:
    """The predictor's canaryTrafficPercent for a rollout; None sends all traffic to the new revision.

    - all-at-once: no canary; the new revision takes 100% once ready.
    - canary: `percent` goes to the new revision; promoting it (100%) is the next change.
    - linear: the first step, `step_percent`; each following step is a pull request that raises the
      percentage by `step_percent` after `interval_minutes`, until the field is removed at 100%.
    - rolling: SageMaker's batch replacement of instances has no KServe equivalent; refused.
    """
    if isinstance(rollout, AllAtOnce):
        return None
    if isinstance(rollout, Canary):
        return rollout.percent
    if isinstance(rollout, Linear):
        return rollout.step_percent
    raise ValueError(
        "a rolling rollout has no KServe equivalent: use canary, linear or all-at-once for models on kubernetes"
    )


def storage_uri(bucket: str, team: str, model: str, version: int) -> str:
    """Where a model version's artifacts live: s3://<artifact bucket>/<team>/<model>/v<version>/."""
    return f"s3://{bucket}/{team}/{model}/v{version}/"


@dataclass(frozen=True)
class KServeModelArgs:
    """Inputs of `KServeModel`."""

    model: str
    """Model name: the InferenceService's name and the `app` label."""
    team: str
    """Owning team: its namespace, service account and artifact prefix."""
    version: int
    """Model version served (its artifacts are under v<version>/)."""
    namespace: pulumi.Input[str]
    """The team's namespace (from `TeamNamespace`)."""
    service_account: pulumi.Input[str]
    """The team's IRSA service account, which may read the artifacts."""
    artifact_bucket: pulumi.Input[str]
    """Name of the environment's artifact bucket."""
    settings: KServeSettings
    """Format, runtime, resources and replicas."""
    rollout: AllAtOnce | Canary | Linear | Rolling
    """The model's rollout settings, shared with SageMaker endpoints."""


class KServeModel(PlatformComponent):
    """One InferenceService whose predictor serves a model version from the artifact bucket."""

    def __init__(
        self, name: str, args: KServeModelArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:kserve:KServeModel", name, tags, opts)
        labels = cost_labels(tags)
        settings = args.settings
        model: dict[str, object] = {
            "modelFormat": {"name": settings.model_format},
            "storageUri": pulumi.Output.from_input(args.artifact_bucket).apply(
                lambda bucket: storage_uri(bucket, args.team, args.model, args.version)
            ),
            "resources": {
                "requests": {"cpu": settings.requests.cpu, "memory": settings.requests.memory},
                "limits": {"cpu": settings.limits.cpu, "memory": settings.limits.memory},
            },
        }
        if settings.runtime:
            model["runtime"] = settings.runtime
        predictor: dict[str, object] = {
            "serviceAccountName": args.service_account,
            "minReplicas": settings.min_replicas,
            "maxReplicas": settings.max_replicas,
            # Pod labels: cost allocation tools read them from the predictor pods.
            "labels": labels,
            "model": model,
        }
        percent = canary_traffic_percent(args.rollout)
        if percent is not None:
            predictor["canaryTrafficPercent"] = percent

        self.inference_service = k8s.apiextensions.CustomResource(
            f"{name}-isvc",
            api_version=KSERVE_API_VERSION,
            kind="InferenceService",
            metadata={
                "name": args.model,
                "namespace": args.namespace,
                "labels": labels,
                # Canary traffic splitting exists only in serverless mode; say so rather than rely on the
                # cluster's default.
                "annotations": {DEPLOYMENT_MODE_ANNOTATION: "Serverless"},
            },
            spec={"predictor": predictor},
            opts=self.child_opts(),
        )
        self.register_outputs({"name": args.model, "canaryTrafficPercent": percent})
