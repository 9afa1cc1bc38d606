"""How a model is trained: a SageMaker Pipeline per model, built with the sagemaker SDK.

Code defaults are the cheap and safe choice (managed spot training, network isolation, AWS's built-in
XGBoost image); the environment file says what differs: instance sizes, the metric threshold, the
schedule, a team's own images and code.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator

from components.config.base import Strict
from components.config.expressions import ScheduleExpression, TimeZone
from components.config.sagemaker_api import instance_types

# SageMaker instance type names, e.g. ml.m5.xlarge, ml.g5.2xlarge.
InstanceType = Annotated[str, Field(pattern=r"^ml\.[a-z0-9-]+\.[a-z0-9]+$")]
# A private or AWS-owned ECR image: <account>.dkr.ecr.<region>.amazonaws.com/<repository>[:tag|@digest].
EcrImage = Annotated[
    str,
    Field(
        pattern=r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*(:[\w.-]+|@sha256:[0-9a-f]{64})$"
    ),
]
# A key prefix inside the environment's artifact bucket, e.g. "code/fraud-scoring/".
S3Prefix = Annotated[str, Field(pattern=r"^[a-zA-Z0-9][a-zA-Z0-9!_.*'()/-]*/$")]


# CreateTrainingJob StoppingCondition: MaxRuntimeInSeconds is at most 28 days (2419200 s); with managed
# spot training MaxWaitTimeInSeconds must be at least MaxRuntimeInSeconds.
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_StoppingCondition.html (read 2026-11-25).
MAX_RUNTIME_MINUTES = 28 * 24 * 60


class MetricThreshold(Strict):
    """The evaluation metric a new version must reach before it is registered."""

    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    """Metric key in the evaluation report: the evaluation step writes `{"metrics": {NAME: {"value": X}}}`."""
    minimum: float
    """Register only when the metric is at least this value (our target for the model, not a fact)."""


class Training(Strict):
    """Training pipeline settings of one model."""

    metric: MetricThreshold
    """The quality gate between evaluation and registration."""
    instance_type: InstanceType = "ml.m5.xlarge"
    """Default instance type of the training step (a pipeline parameter; an execution may override it)."""
    instance_count: Annotated[int, Field(ge=1, le=20)] = 1
    """Instances of the training step."""
    processing_instance_type: InstanceType = "ml.m5.large"
    """Default instance type of feature preparation and evaluation (a pipeline parameter)."""
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 30
    """EBS volume of each job, encrypted with the environment key."""
    spot: bool = True
    """Managed spot training (checkpoints to S3, resumes after an interruption). Cuts training cost."""
    max_runtime_minutes: Annotated[int, Field(ge=1, le=MAX_RUNTIME_MINUTES)] = 120
    """Longest a training job may run."""
    max_wait_minutes: Annotated[int, Field(ge=1, le=MAX_RUNTIME_MINUTES)] = 240
    """Longest a spot training job may take including waiting for capacity; at least max_runtime_minutes."""
    network_isolation: bool = True
    """Run jobs without outbound network access (SageMaker still reads inputs and writes outputs)."""
    xgboost_version: Annotated[str, Field(pattern=r"^\d+\.\d+-\d+$")] = "1.7-1"
    """Version of AWS's built-in XGBoost image used when `image` is not set."""
    sklearn_version: Annotated[str, Field(pattern=r"^\d+\.\d+-\d+$")] = "1.2-1"
    """Version of AWS's built-in scikit-learn image used when `processing_image` is not set."""
    image: EcrImage | None = None
    """The team's own training image (it contains the training code); default: built-in XGBoost."""
    processing_image: EcrImage | None = None
    """The team's own image for feature preparation and evaluation; default: built-in scikit-learn."""
    code_prefix: S3Prefix | None = None
    """Prefix in the artifact bucket holding `preprocess.py` and `evaluate.py`; default `code/<model>/`."""
    input_prefix: S3Prefix | None = None
    """Prefix in the artifact bucket holding the raw training data; default `datasets/<model>/`."""
    hyperparameters: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]+$", max_length=256)], str] = Field(
        default_factory=dict
    )
    """Hyperparameters passed to the training container as strings."""
    schedule: ScheduleExpression | None = None
    """Retraining schedule (EventBridge Scheduler cron/rate expression); omit for on-demand runs only."""
    schedule_timezone: TimeZone = "UTC"
    """IANA time zone the cron expression is read in."""

    @field_validator("instance_type")
    @classmethod
    def _known_training_instance(cls, value: str) -> str:
        return _known_instance("TrainingInstanceType", "training", value)

    @field_validator("processing_instance_type")
    @classmethod
    def _known_processing_instance(cls, value: str) -> str:
        return _known_instance("ProcessingInstanceType", "processing", value)

    @model_validator(mode="after")
    def _spot_wait_covers_runtime(self) -> Training:
        if self.spot and self.max_wait_minutes < self.max_runtime_minutes:
            raise ValueError(
                f"max_wait_minutes {self.max_wait_minutes} is below max_runtime_minutes "
                f"{self.max_runtime_minutes}: with spot training the wait includes the run time; "
                f"set max_wait_minutes to at least {self.max_runtime_minutes}"
            )
        return self


def _known_instance(shape: str, kind: str, value: str) -> str:
    known = instance_types(shape)
    if value not in known:
        family = value.rsplit(".", 1)[0] + "."
        close = [t for t in known if t.startswith(family)] or [t for t in known if t.startswith("ml.m5.")]
        raise ValueError(f"{value} is not a SageMaker {kind} instance type; e.g. {', '.join(close[:6])}")
    return value
