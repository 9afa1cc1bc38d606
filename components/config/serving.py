"""How a model is served: SageMaker real-time endpoints or Kubernetes (KServe)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from components.config.base import Strict


class Serving(Strict):
    """Serving settings of one model. Code defaults are the cheap, safe choice; env files override."""

    platform: Literal["sagemaker", "kubernetes"] = "sagemaker"
    """Where the model is served: a SageMaker real-time endpoint or a KServe InferenceService on EKS."""
    instance_type: str = "ml.m5.large"
    """SageMaker hosting instance type of the production variant."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Instances of the production variant when the endpoint is created."""
