"""Kubernetes serving settings: the EKS cluster of an environment, team namespace sizing, KServe settings.

Quantities follow the Kubernetes resource quantity syntax (https://kubernetes.io/docs/reference/kubernetes-api/
common-definitions/quantity/, read 2026-11-25): a decimal number with an optional suffix, e.g. `500m`,
`2`, `1Gi`, `512Mi`.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from components.config.base import Slug, Strict

if TYPE_CHECKING:
    from components.config.environment import Environment, Model

QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"
Quantity = Annotated[str, StringConstraints(pattern=QUANTITY_PATTERN)]

_SUFFIX = {
    "": Decimal(1),
    "m": Decimal("0.001"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
}


def quantity_value(quantity: str) -> Decimal:
    """The numeric value of a Kubernetes quantity (cores for CPU, bytes for memory)."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)", quantity)
    if match is None or match.group(2) not in _SUFFIX:
        raise ValueError(f"{quantity!r} is not a Kubernetes quantity")
    return Decimal(match.group(1)) * _SUFFIX[match.group(2)]


class Resources(Strict):
    """CPU and memory, as Kubernetes quantities."""

    cpu: Quantity
    """CPU in cores or millicores, e.g. `2` or `500m`."""
    memory: Quantity
    """Memory in bytes with a binary suffix, e.g. `512Mi`, `4Gi`."""

    def fits_in(self, other: Resources) -> bool:
        return quantity_value(self.cpu) <= quantity_value(other.cpu) and quantity_value(self.memory) <= quantity_value(
            other.memory
        )


def _not_above(small: Resources, small_name: str, large: Resources, large_name: str) -> None:
    for what in ("cpu", "memory"):
        low, high = getattr(small, what), getattr(large, what)
        if quantity_value(low) > quantity_value(high):
            raise ValueError(
                f"{small_name}.{what} {low} is above {large_name}.{what} {high}: "
                f"raise {large_name}.{what} or lower {small_name}.{what}"
            )


class NamespaceSizing(Strict):
    """A team's namespace on the cluster: its ResourceQuota and the LimitRange defaults of its containers."""

    requests: Resources
    """ResourceQuota on the sum of the namespace's CPU and memory requests (what the team reserves)."""
    limits: Resources
    """ResourceQuota on the sum of the namespace's CPU and memory limits (the most the team can burst to)."""
    pods: Annotated[int, Field(ge=1, le=1000)]
    """ResourceQuota on the number of pods."""
    default_request: Resources = Resources(cpu="100m", memory="256Mi")
    """LimitRange: request given to a container that sets none."""
    default_limit: Resources = Resources(cpu="1", memory="1Gi")
    """LimitRange: limit given to a container that sets none."""

    @model_validator(mode="after")
    def _consistent(self) -> NamespaceSizing:
        _not_above(self.requests, "requests", self.limits, "limits")
        _not_above(self.default_request, "default_request", self.default_limit, "default_limit")
        _not_above(self.default_limit, "default_limit", self.limits, "limits")
        return self


class KubernetesCluster(Strict):
    """The EKS cluster an environment serves Kubernetes models on. How Pulumi reaches it (kubeconfig) is
    stack config, not this file: see docs/kubernetes.md."""

    cluster_name: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$")]
    """EKS cluster name (in this environment's account and region)."""
    version: Annotated[str, StringConstraints(pattern=r"^1\.[0-9]{2}$")]
    """Kubernetes minor version the cluster runs, e.g. `1.33`; manifests are validated against its API."""
    oidc_issuer: Annotated[
        str, StringConstraints(pattern=r"^oidc\.eks\.[a-z]{2}(-gov)?-[a-z]+-[0-9]\.amazonaws\.com/id/[0-9A-F]{32}$")
    ]
    """The cluster's OIDC issuer without `https://` (`aws eks describe-cluster --query
    cluster.identity.oidc.issuer`); IRSA roles trust the IAM OIDC provider of this issuer."""
    serving_ingress_namespaces: Annotated[
        list[Slug], Field(min_length=1, default_factory=lambda: ["istio-system", "knative-serving"])
    ]
    """Namespaces whose pods may reach the team namespaces: the ingress gateway and the Knative activator
    that KServe's serverless mode routes requests through. Everything else is denied."""

    def oidc_provider_arn(self, account_id: str) -> str:
        return f"arn:aws:iam::{account_id}:oidc-provider/{self.oidc_issuer}"


# Model formats the ClusterServingRuntimes shipped with KServe support, by their `modelFormat` name
# (https://kserve.github.io/website/docs/concepts/resources/servingruntime, read 2026-11-25).
ModelFormat = Literal["sklearn", "xgboost", "lightgbm", "onnx", "pytorch", "tensorflow", "pmml", "paddle", "mlflow"]


class KServeSettings(Strict):
    """How a model runs as a KServe InferenceService. Defaults are small; env files size them."""

    model_format: ModelFormat
    """The model's format; KServe picks the serving runtime that supports it."""
    runtime: Slug | None = None
    """A specific ServingRuntime to use; omit to let KServe choose by model format."""
    requests: Resources = Resources(cpu="500m", memory="1Gi")
    """Requests of the predictor container."""
    limits: Resources = Resources(cpu="1", memory="2Gi")
    """Limits of the predictor container."""
    min_replicas: Annotated[int, Field(ge=1, le=100)] = 1
    """Fewest predictor pods (at least 1: no scale-to-zero cold starts on the payment path)."""
    max_replicas: Annotated[int, Field(ge=1, le=100)] = 1
    """Most predictor pods the autoscaler may run."""

    @model_validator(mode="after")
    def _consistent(self) -> KServeSettings:
        if self.min_replicas > self.max_replicas:
            raise ValueError(
                f"min_replicas {self.min_replicas} is above max_replicas {self.max_replicas}: "
                "raise max_replicas or lower min_replicas"
            )
        _not_above(self.requests, "requests", self.limits, "limits")
        return self


Loc = tuple[int | str, ...]


def kubernetes_problems(env: Environment) -> list[tuple[Loc, str]]:
    """Rules across the cluster, the teams' namespaces and the models served on Kubernetes."""
    found: list[tuple[Loc, str]] = []
    cluster = env.kubernetes
    if cluster is not None and f".{env.region}." not in cluster.oidc_issuer:
        found.append(
            (
                ("kubernetes", "oidc_issuer"),
                f"issuer {cluster.oidc_issuer!r} is not in the environment's region {env.region}: "
                "use the issuer of the cluster in this environment",
            )
        )
    for i, team in enumerate(env.teams):
        if team.namespace is not None and cluster is None:
            found.append(
                (
                    ("teams", i, "namespace"),
                    "the environment declares no kubernetes cluster: add a `kubernetes:` section or remove "
                    "the namespace",
                )
            )
    for i, model in enumerate(env.models):
        found += _model_problems(env, i, model)
    return found


def _model_problems(env: Environment, i: int, model: Model) -> list[tuple[Loc, str]]:
    found: list[tuple[Loc, str]] = []
    serving = model.serving
    if serving.platform != "kubernetes":
        if serving.kserve is not None:
            found.append(
                (
                    ("models", i, "serving", "kserve"),
                    "kserve settings apply only to `platform: kubernetes`; remove them or change the platform",
                )
            )
        return found
    if env.kubernetes is None:
        found.append(
            (
                ("models", i, "serving", "platform"),
                "the model is served on kubernetes but the environment declares no kubernetes cluster: add a "
                "`kubernetes:` section or serve it on sagemaker",
            )
        )
    if serving.kserve is None:
        found.append(
            (
                ("models", i, "serving"),
                "a model served on kubernetes needs a `kserve:` section (at least `model_format`)",
            )
        )
    if serving.rollout.strategy == "rolling":
        found.append(
            (
                ("models", i, "serving", "rollout", "strategy"),
                "a rolling rollout replaces SageMaker instances in batches and has no KServe equivalent: "
                "use canary (canaryTrafficPercent = percent), linear or all-at-once",
            )
        )
    owner = next((t for t in env.teams if t.name == model.team), None)
    if owner is None:
        return found  # reported by the loader
    if owner.namespace is None:
        if env.kubernetes is not None:
            found.append(
                (
                    ("models", i, "team"),
                    f"team {model.team!r} has no namespace on the cluster: add `namespace:` sizing to the team",
                )
            )
        return found
    if serving.kserve is not None:
        quota, kserve = owner.namespace.limits, serving.kserve
        for what in ("cpu", "memory"):
            total = quantity_value(getattr(kserve.limits, what)) * kserve.max_replicas
            if total > quantity_value(getattr(quota, what)):
                found.append(
                    (
                        ("models", i, "serving", "kserve", "max_replicas"),
                        f"max_replicas {kserve.max_replicas} x limits.{what} {getattr(kserve.limits, what)} "
                        f"exceeds team {owner.name!r} namespace limits.{what} {getattr(quota, what)}: "
                        "lower max_replicas or raise the team's namespace limits",
                    )
                )
    return found
