"""Feature groups: SageMaker Feature Store groups a team declares, their ingestion and their parity checks.

Names, types and units are checked against SageMaker's API model as the installed botocore ships it
(`components.config.sagemaker_api`, botocore 1.44.8's sagemaker service-2.json, read 2026-11-30):
FeatureGroupName and FeatureName (1..64, `[a-zA-Z0-9]([_-]*[a-zA-Z0-9]){0,63}`), FeatureType
(Integral, Fractional, String), TtlDurationUnit, and the rules its documentation states that no shape
encodes: the names a feature may not take (`is_deleted`, `write_time`, `api_invocation_time`), the
record identifier and event time being among the features, and the event time being String (ISO-8601)
or Fractional (Unix seconds) — CreateFeatureGroupRequest.EventTimeFeatureName.
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator, model_validator

from components.config.base import Slug, Strict
from components.config.expressions import ScheduleExpression, TimeZone
from components.config.sagemaker_api import enum_values, instance_types, shape_rule
from components.config.training import S3Prefix

if TYPE_CHECKING:
    from components.config.environment import Environment

Loc = tuple[int | str, ...]

# FeatureDefinition.FeatureName documentation (botocore sagemaker service-2.json): reserved by Feature Store,
# which adds these columns to every offline-store record.
RESERVED_FEATURE_NAMES = ("is_deleted", "write_time", "api_invocation_time")
# CreateFeatureGroupRequest.EventTimeFeatureName documentation: "An EventTime can be a String or Fractional".
EVENT_TIME_TYPES = ("String", "Fractional")
# FeatureDefinitions: 1..2500 entries (botocore shape FeatureDefinitions).
MAX_FEATURES = 2500


def _matches(shape: str, value: str) -> str:
    """`value` when it satisfies the botocore shape's length and pattern, else ValueError saying which."""
    rule = shape_rule(shape)
    if not rule.get("min", 0) <= len(value) <= rule.get("max", len(value)):
        raise ValueError(f"{value!r} has {len(value)} characters; {shape} allows {rule.get('min', 0)}..{rule['max']}")
    if "pattern" in rule and not re.fullmatch(rule["pattern"], value):
        raise ValueError(
            f"{value!r} does not match {shape} {rule['pattern']}: start with a letter or digit, then letters, "
            "digits, '-' or '_', ending with a letter or digit"
        )
    return value


def _member_of(shape: str, value: str) -> str:
    allowed = enum_values(shape)
    if value not in allowed:
        close = difflib.get_close_matches(value, allowed, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ValueError(f"{value!r} is not a {shape}; allowed: {', '.join(allowed)}{hint}")
    return value


class Feature(Strict):
    """One feature (column) of a group."""

    name: str
    """Feature name: 1..64 letters, digits, '-' and '_' (botocore FeatureName)."""
    type: str
    """Integral, Fractional or String (botocore FeatureType)."""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value in RESERVED_FEATURE_NAMES:
            raise ValueError(
                f"{value!r} is reserved by Feature Store (it adds {', '.join(RESERVED_FEATURE_NAMES)} to every "
                "offline record); rename the feature"
            )
        return _matches("FeatureName", value)

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        return _member_of("FeatureType", value)


class Ttl(Strict):
    """How long a record stays in the online store after its event time (ExpiresAt = EventTime + TTL)."""

    value: Annotated[int, Field(ge=1)]
    """Amount of `unit` (botocore TtlDurationValue: at least 1)."""
    unit: str = "Days"
    """Seconds, Minutes, Hours, Days or Weeks (botocore TtlDurationUnit)."""

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        return _member_of("TtlDurationUnit", value)

    @property
    def seconds(self) -> int:
        return self.value * {"Seconds": 1, "Minutes": 60, "Hours": 3600, "Days": 86400, "Weeks": 604800}[self.unit]


class OnlineStore(Strict):
    """The low-latency store the models read at scoring time."""

    enabled: bool = True
    """Keep the latest record of each identifier for online reads; off for batch-only features."""
    ttl: Ttl | None = None
    """Delete records this long after their event time; omit to keep them until overwritten."""


class OfflineStore(Strict):
    """The history of every record, in the environment's artifact bucket, with a Glue table over it."""

    enabled: bool = True
    """Keep the history (training sets, backfills, parity checks read it)."""
    table_format: Literal["Glue", "Iceberg"] = "Glue"
    """Table format of the offline store (botocore TableFormat; Default means Glue)."""


class Ingestion(Strict):
    """A SageMaker pipeline that reads the source prefix and writes its records to the group."""

    source_prefix: S3Prefix
    """Prefix in the artifact bucket holding one folder per day: `<source_prefix><YYYY-MM-DD>/*.csv`, with a
    header naming the features."""
    schedule: ScheduleExpression | None = None
    """When the previous day's folder is ingested (EventBridge Scheduler); omit for on-demand runs only."""
    schedule_timezone: TimeZone = "UTC"
    """IANA time zone the cron expression is read in."""
    instance_type: str = "ml.m5.large"
    """Processing instance type of the ingestion job."""
    max_runtime_minutes: Annotated[int, Field(ge=1, le=7 * 24 * 60)] = 60
    """Longest an ingestion run may take (a long backfill may need more)."""

    @field_validator("instance_type")
    @classmethod
    def _instance(cls, value: str) -> str:
        return _known_processing_instance(value)


class Parity(Strict):
    """A scheduled job comparing sampled records in the online and the offline store."""

    schedule: ScheduleExpression = "cron(0 5 * * ? *)"
    """When the check runs (default: daily at 05:00 in schedule_timezone)."""
    schedule_timezone: TimeZone = "UTC"
    sample_size: Annotated[int, Field(ge=1, le=10000)] = 500
    """Records sampled per run (the online reads are BatchGetRecord calls of 100 identifiers)."""
    max_mismatch_percent: Annotated[float, Field(ge=0, le=100)] = 0.5
    """Alarm when more than this share of the compared feature values differ (our choice, not a fact)."""
    severity: Slug | None = None
    """Severity of the parity alarm; `alerting.drift` when omitted."""
    instance_type: str = "ml.m5.large"
    """Processing instance type of the check."""

    @field_validator("instance_type")
    @classmethod
    def _instance(cls, value: str) -> str:
        return _known_processing_instance(value)


class FeatureGroup(Strict):
    """A SageMaker Feature Store feature group owned by a team."""

    name: Slug
    """Group name; the feature group is `<environment>-<name>` (botocore FeatureGroupName: at most 64)."""
    team: Slug
    """Owning team: pays for the group, owns its pipelines' alarms; its readers and writers get roles."""
    description: Annotated[str, Field(max_length=128)] = ""
    """What the features describe (shown in the Feature Store console)."""
    record_identifier: str
    """Feature that identifies a record (e.g. card_id); must be one of `features`."""
    event_time: str
    """Feature holding the record's event time; one of `features`, String (ISO-8601) or Fractional."""
    features: Annotated[list[Feature], Field(min_length=1, max_length=MAX_FEATURES)]
    """Feature definitions, the identifier and the event time included."""
    online: OnlineStore = OnlineStore()
    """Online store settings."""
    offline: OfflineStore = OfflineStore()
    """Offline store settings."""
    ingestion: Ingestion | None = None
    """Ingestion and backfill pipeline; omit when another system writes the group."""
    parity: Parity | None = None
    """Online/offline parity check; needs both stores."""

    @model_validator(mode="after")
    def _consistent(self) -> FeatureGroup:
        names = [f.name for f in self.features]
        types = {f.name: f.type for f in self.features}
        problems = []
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            problems.append(f"duplicate features {', '.join(duplicates)}: each feature is defined once")
        for field, value in (("record_identifier", self.record_identifier), ("event_time", self.event_time)):
            if value not in types:
                problems.append(f"{field} {value!r} is not among the features ({', '.join(names)}); add it there")
        if types.get(self.event_time, "String") not in EVENT_TIME_TYPES:
            problems.append(
                f"event_time {self.event_time!r} is {types[self.event_time]}: an event time is String (ISO-8601) "
                "or Fractional (Unix seconds) (CreateFeatureGroup EventTimeFeatureName)"
            )
        if not (self.online.enabled or self.offline.enabled):
            problems.append("both stores are off: enable the online store, the offline store or both")
        if self.parity is not None and not (self.online.enabled and self.offline.enabled):
            problems.append("parity compares the online and the offline store: enable both, or remove parity")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _known_processing_instance(value: str) -> str:
    known = instance_types("ProcessingInstanceType")
    if value not in known:
        close = difflib.get_close_matches(value, known, n=3)
        raise ValueError(f"{value} is not a SageMaker processing instance type; e.g. {', '.join(close or known[:3])}")
    return value


def feature_problems(env: Environment) -> list[tuple[Loc, str]]:
    """Rules spanning feature groups, teams, models and alerting: the owning team exists, group names are
    unique, a model reads only groups that exist, a parity severity exists."""
    found: list[tuple[Loc, str]] = []
    teams = [t.name for t in env.teams]
    groups = [g.name for g in env.feature_groups]
    severities = [s.name for s in env.alerting.severities]
    seen: set[str] = set()
    for i, group in enumerate(env.feature_groups):
        if group.name in seen:
            found.append((("feature_groups", i, "name"), f"duplicate feature group {group.name!r}: names are unique"))
        seen.add(group.name)
        if group.team not in teams:
            found.append(
                (("feature_groups", i, "team"), f"team {group.team!r} does not exist; teams here: {', '.join(teams)}")
            )
        if group.parity and group.parity.severity and group.parity.severity not in severities:
            found.append(
                (
                    ("feature_groups", i, "parity", "severity"),
                    f"severity {group.parity.severity!r} does not exist; severities here: {', '.join(severities)}",
                )
            )
    for i, model in enumerate(env.models):
        for j, name in enumerate(model.features):
            if name not in groups:
                found.append(
                    (
                        ("models", i, "features", j),
                        f"feature group {name!r} does not exist; feature groups here: {', '.join(groups) or 'none'}"
                        " (declare it under feature_groups)",
                    )
                )
    return found
