"""Batch inference of a model: a scheduled SageMaker pipeline with a transform step (`serving.batch`).

The transform serves the model's pinned `version`, the same one its endpoint serves, so promoting the
version promotes both. Values are checked against SageMaker's API model as the installed botocore ships it
(botocore 1.44.8 sagemaker service-2.json, read 2026-11-30): TransformInstanceType, SplitType and
BatchStrategy enums, TransformInstanceCount (at least 1), and what CreateTransformJobRequest's documentation
says of MaxPayloadInMB ("cannot be greater than 100 MB", and MaxConcurrentTransforms * MaxPayloadInMB
neither) and of BatchStrategy ("you must set the SplitType property to Line, RecordIO, or TFRecord").
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, field_validator, model_validator

from components.config.base import Slug, Strict
from components.config.expressions import ScheduleExpression, TimeZone
from components.config.sagemaker_api import enum_values, instance_types
from components.config.training import S3Prefix

if TYPE_CHECKING:
    from components.config.environment import Environment

Loc = tuple[int | str, ...]

# CreateTransformJobRequest.MaxPayloadInMB documentation (botocore): at most 100 MB, alone and multiplied by
# MaxConcurrentTransforms; 0 means chunked transfer (only some algorithms).
MAX_PAYLOAD_MB = 100


def _member_of(shape: str, value: str) -> str:
    allowed = enum_values(shape)
    if value not in allowed:
        close = difflib.get_close_matches(value, allowed, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ValueError(f"{value!r} is not a {shape}; allowed: {', '.join(allowed)}{hint}")
    return value


class Batch(Strict):
    """Batch transform of the model's pinned version over files under an input prefix."""

    schedule: ScheduleExpression | None = None
    """When the batch runs (EventBridge Scheduler); omit to run it on demand only."""
    schedule_timezone: TimeZone = "UTC"
    """IANA time zone the cron expression is read in."""
    input_prefix: S3Prefix | None = None
    """Prefix in the artifact bucket the transform reads (pipeline parameter InputData); default
    `batch/<model>/input/`."""
    output_prefix: S3Prefix | None = None
    """Prefix the predictions are written under, one folder per execution; default `batch/<model>/output/`."""
    instance_type: str = "ml.m5.large"
    """Transform instance type (botocore TransformInstanceType)."""
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    """Transform instances (botocore TransformInstanceCount: at least 1; 100 is our cap)."""
    max_payload_mb: Annotated[int, Field(ge=0, le=MAX_PAYLOAD_MB)] = 6
    """Largest mini-batch sent to the container, in MB (API default 6; at most 100)."""
    max_concurrent_transforms: Annotated[int, Field(ge=1, le=MAX_PAYLOAD_MB)] | None = None
    """Parallel requests per instance; the container's default when omitted."""
    split_type: str = "Line"
    """How input files are split into records: None, Line, RecordIO or TFRecord (botocore SplitType)."""
    batch_strategy: str = "MultiRecord"
    """MultiRecord (as many records as fit in max_payload_mb per request) or SingleRecord."""
    content_type: Annotated[str, Field(pattern=r"^[\w.+-]+/[\w.+-]+$")] = "text/csv"
    """MIME type of the input."""
    accept: Annotated[str, Field(pattern=r"^[\w.+-]+/[\w.+-]+$")] = "text/csv"
    """MIME type of the predictions."""
    severity: Slug | None = None
    """Severity of the failure alarm; `alerting.slo` when omitted."""

    @field_validator("instance_type")
    @classmethod
    def _instance(cls, value: str) -> str:
        known = instance_types("TransformInstanceType")
        if value not in known:
            close = difflib.get_close_matches(value, known, n=3)
            raise ValueError(
                f"{value} is not a SageMaker transform instance type; e.g. {', '.join(close or known[:3])}"
            )
        return value

    @field_validator("split_type")
    @classmethod
    def _split(cls, value: str) -> str:
        return _member_of("SplitType", value)

    @field_validator("batch_strategy")
    @classmethod
    def _strategy(cls, value: str) -> str:
        return _member_of("BatchStrategy", value)

    @model_validator(mode="after")
    def _consistent(self) -> Batch:
        if self.batch_strategy == "MultiRecord" and self.split_type == "None":
            raise ValueError(
                "batch_strategy MultiRecord needs records to batch: set split_type to Line, RecordIO or TFRecord "
                "(CreateTransformJob BatchStrategy), or use SingleRecord"
            )
        if self.max_concurrent_transforms and self.max_concurrent_transforms * self.max_payload_mb > MAX_PAYLOAD_MB:
            raise ValueError(
                f"max_concurrent_transforms {self.max_concurrent_transforms} x max_payload_mb {self.max_payload_mb} "
                f"is above {MAX_PAYLOAD_MB} MB (CreateTransformJob MaxPayloadInMB); lower one of them"
            )
        return self

    @property
    def assemble_with(self) -> str:
        """Predictions are joined line by line when the input was split by line (botocore AssemblyType)."""
        return "Line" if self.split_type == "Line" else "None"


def batch_problems(env: Environment) -> list[tuple[Loc, str]]:
    """A batch-only model has a batch section; a batch alarm's severity exists."""
    found: list[tuple[Loc, str]] = []
    severities = [s.name for s in env.alerting.severities]
    for i, model in enumerate(env.models):
        batch = model.serving.batch
        if model.serving.platform == "batch" and batch is None:
            found.append(
                (
                    ("models", i, "serving", "batch"),
                    "platform batch serves the model only in batch: add a batch section (schedule, instance_type, ...)",
                )
            )
        if batch and batch.severity and batch.severity not in severities:
            found.append(
                (
                    ("models", i, "serving", "batch", "severity"),
                    f"severity {batch.severity!r} does not exist; severities here: {', '.join(severities)}",
                )
            )
    return found
