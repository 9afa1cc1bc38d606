"""How a model is trained: a SageMaker Pipeline per model."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from components.config.base import Strict


class Training(Strict):
    """Training pipeline settings of one model."""

    instance_type: str = "ml.m5.xlarge"
    """Instance type of the training step."""
    instance_count: Annotated[int, Field(ge=1, le=20)] = 1
    """Instances of the training step."""
