"""Values whose content AWS judges, judged when the environment file is loaded, against the same sources.

- Schedules: the cron and rate grammar EventBridge Scheduler and Application Auto Scaling share (six fields,
  their ranges and wildcards, and the rule that one of day-of-month and day-of-week is `?`).
- Time zones: the IANA database Python ships (`zoneinfo`), which is what both services take.
- Regions: the regions and partitions in botocore's endpoint data (installed with boto3; no network).

Each check is a function returning the problem in words (or None), so a config model can apply it with an
`AfterValidator` and the loader can reuse it; pydantic then reports it at the field's file and line.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import json
import re
import zoneinfo
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

# The cron and rate grammar, read 2026-11-30: EventBridge's cron reference
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html) gives the six fields,
# their ranges and wildcards, and the restriction "You can't specify the Day-of-month and Day-of-week fields in
# the same cron expression. If you specify a value or a * (asterisk) in one of the fields, you must use a ?
# (question mark) in the other." Application Auto Scaling's scheduled actions use that same syntax (its page,
# https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html,
# refers to EventBridge's reference), and so does EventBridge Scheduler (botocore scheduler service-2.json,
# CreateScheduleInput.ScheduleExpression: six fields; rate(value unit) with a positive integer and unit
# minute|minutes|hour|hours|day|days). The singular unit for a value of 1 is EventBridge's rate rule
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html); applying it to
# Scheduler too is our reading of one family of expressions.
CRON_PAGE = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html"
RATE_PAGE = "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html"
SCHEDULER_PAGE = "https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html"
AUTOSCALING_PAGE = (
    "https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html"
)

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")  # 1 = SUN ... 7 = SAT


class _Field:
    """One cron field: its name, range, names for values (month, weekday) and the wildcards it allows."""

    def __init__(self, name: str, low: int, high: int, wildcards: str, names: tuple[str, ...] = ()) -> None:
        self.name, self.low, self.high, self.wildcards, self.names = name, low, high, wildcards, names

    def value(self, text: str) -> int | None:
        if text.isdigit():
            return int(text)
        upper = text.upper()
        return self.names.index(upper) + 1 if upper in self.names else None

    def allowed(self) -> str:
        named = f" or {self.names[0]}-{self.names[-1]}" if self.names else ""
        return f"{self.low}-{self.high}{named}, wildcards {' '.join(self.wildcards)}"


CRON_FIELDS = (
    _Field("minutes", 0, 59, ",-*/"),
    _Field("hours", 0, 23, ",-*/"),
    _Field("day-of-month", 1, 31, ",-*?/LW"),
    _Field("month", 1, 12, ",-*/", MONTHS),
    _Field("day-of-week", 1, 7, ",-*?L#", WEEKDAYS),
    _Field("year", 1970, 2199, ",-*/"),
)


def _special_problem(field: _Field, item: str) -> str | None:
    """The problem with a day field's own forms (L, W, #), "" when `item` is none of them."""
    if field.name == "day-of-month" and (item in ("L", "LW") or re.fullmatch(r"\d{1,2}W", item)):
        day = item.rstrip("W")
        return None if day == "L" or 1 <= int(day) <= 31 else f"day {day} is outside 1-31"
    if field.name == "day-of-week" and (hashed := re.fullmatch(r"(\w+)#(\d)", item)) is not None:
        weekday, nth = field.value(hashed[1]), int(hashed[2])
        if weekday is None or not 1 <= weekday <= 7 or not 1 <= nth <= 5:
            return f"{item!r}: write DAY#N with DAY 1-7 or SUN-SAT and N 1-5"
        return None
    if field.name == "day-of-week" and (item == "L" or (item.endswith("L") and field.value(item[:-1]))):
        return None
    return ""


def _item_problem(field: _Field, item: str) -> str | None:
    """The problem with one comma-separated item of a cron field, or None."""
    if item in ("*", "?"):
        return None if item in field.wildcards else f"{item!r} is not allowed in {field.name}"
    if (special := _special_problem(field, item)) != "":
        return special
    base, _, step = item.partition("/")
    if step and "/" not in field.wildcards:
        return f"'/' is not allowed in {field.name}"
    if step and (not step.isdigit() or int(step) < 1):
        return f"the increment in {item!r} must be a positive whole number"
    parts = [] if step and base == "*" else base.split("-", 1)
    for part in parts:
        number = field.value(part)
        if number is None or not field.low <= number <= field.high:
            return (
                f"{part!r} is outside {field.low}-{field.high}"
                if number is not None
                else (f"{part!r} is not a {field.name} value")
            )
    return None


def cron_problem(expression: str) -> str | None:
    """Why a `cron(...)` expression is refused by EventBridge and Application Auto Scaling, or None."""
    match = re.fullmatch(r"cron\((.*)\)", expression)
    if match is None:
        return None
    fields = match[1].split()
    if len(fields) != len(CRON_FIELDS):
        return (
            f"{expression} has {len(fields)} fields; a cron expression has six: minutes hours day-of-month "
            f"month day-of-week year, e.g. cron(0 3 ? * SUN *) ({CRON_PAGE})"
        )
    for field, text in zip(CRON_FIELDS, fields, strict=True):
        for item in text.split(","):
            if (problem := _item_problem(field, item)) is not None:
                return f"{expression}: {field.name} {text!r}: {problem}; allowed: {field.allowed()} ({CRON_PAGE})"
    day_of_month, day_of_week = fields[2], fields[4]
    if (day_of_month == "?") == (day_of_week == "?"):
        return (
            f"{expression}: exactly one of day-of-month ({day_of_month}) and day-of-week ({day_of_week}) must be "
            f"'?', AWS cannot take both: e.g. cron(0 3 * * ? *) for every day, cron(0 3 ? * MON-FRI *) for "
            f"weekdays ({CRON_PAGE})"
        )
    return None


RATE_UNITS = ("minute", "hour", "day")


def rate_problem(expression: str) -> str | None:
    """Why a `rate(value unit)` expression is refused, or None. EventBridge's page: "If the value is equal to
    1, then the unit must be singular. If the value is greater than 1, the unit must be plural." """
    match = re.fullmatch(r"rate\((.*)\)", expression)
    if match is None:
        return None
    parts = match[1].split()
    example = "e.g. rate(1 day) or rate(12 hours)"
    if len(parts) != 2 or not parts[0].isdigit() or int(parts[0]) < 1:
        return f"{expression}: write rate(VALUE UNIT) with a positive whole VALUE, {example} ({SCHEDULER_PAGE})"
    value, unit = int(parts[0]), parts[1]
    if unit.rstrip("s") not in RATE_UNITS:
        return f"{expression}: unit {unit!r} is not one of minute(s), hour(s), day(s) ({SCHEDULER_PAGE})"
    wanted = unit.rstrip("s") + ("" if value == 1 else "s")
    if unit != wanted:
        return f"{expression}: with {value} the unit is {wanted!r} ({RATE_PAGE}); write rate({value} {wanted})"
    return None


def _schedule(expression: str) -> str:
    """A Scheduler expression: cron(...) or rate(...)."""
    if not expression.startswith(("cron(", "rate(")) or not expression.endswith(")"):
        raise ValueError(
            f"{expression!r} is not a schedule expression: write cron(minutes hours day-of-month month "
            f"day-of-week year), e.g. cron(0 3 ? * SUN *), or rate(VALUE UNIT), e.g. rate(1 day) ({SCHEDULER_PAGE})"
        )
    problem = cron_problem(expression) or rate_problem(expression)
    if problem is not None:
        raise ValueError(problem)
    return expression


def _cron(expression: str) -> str:
    """An Application Auto Scaling scheduled action's cron(...) expression."""
    if not expression.startswith("cron(") or not expression.endswith(")"):
        raise ValueError(
            f"{expression!r} is not a cron expression: write cron(minutes hours day-of-month month day-of-week "
            f"year), e.g. cron(0 20 ? * MON-FRI *) ({AUTOSCALING_PAGE})"
        )
    problem = cron_problem(expression)
    if problem is not None:
        raise ValueError(problem)
    return expression


ScheduleExpression = Annotated[str, AfterValidator(_schedule)]
"""An EventBridge Scheduler schedule: cron(...) or rate(...), checked field by field."""
CronExpression = Annotated[str, AfterValidator(_cron)]
"""An Application Auto Scaling cron(...) expression, checked field by field."""


# --- time zones ---------------------------------------------------------------------------------------


@functools.cache
def time_zones() -> frozenset[str]:
    """IANA time zone names, from the database Python reads (the system's, or the tzdata package's)."""
    return frozenset(zoneinfo.available_timezones())


def _time_zone(name: str) -> str:
    known = time_zones()
    if not known or name in known:  # no database on this machine: nothing to judge against
        return name
    close = difflib.get_close_matches(name, sorted(known), n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "e.g. UTC, Europe/Dublin, America/New_York"
    raise ValueError(f"{name!r} is not an IANA time zone; {hint}")


TimeZone = Annotated[str, AfterValidator(_time_zone)]
"""An IANA time zone name such as Europe/Dublin, as EventBridge Scheduler and Application Auto Scaling take."""


# --- regions and partitions -----------------------------------------------------------------------------

# Every ARN the components build is arn:aws:... (e.g. components/config/environment.py RegistryLocation),
# so only regions of the `aws` partition can be deployed to.
SUPPORTED_PARTITION = "aws"


@functools.cache
def partitions() -> dict[str, str]:
    """region -> partition, for every region in botocore's endpoint data (botocore/data/endpoints.json)."""
    spec = importlib.util.find_spec("botocore")  # the package's own data, without importing botocore
    if spec is None or not spec.submodule_search_locations:
        return {}
    data = json.loads((Path(next(iter(spec.submodule_search_locations))) / "data" / "endpoints.json").read_text())
    return {region: p["partition"] for p in data["partitions"] for region in p["regions"]}


def region_problem(region: str) -> str | None:
    known = partitions()
    if not known:
        return None
    partition = known.get(region)
    if partition is None:
        ours = sorted(r for r, p in known.items() if p == SUPPORTED_PARTITION)
        close = difflib.get_close_matches(region, ours, n=3)
        hint = f"did you mean {', '.join(close)}?" if close else f"e.g. {', '.join(ours[:4])}"
        return f"{region!r} is not an AWS region (botocore's endpoint data knows none of that name); {hint}"
    if partition != SUPPORTED_PARTITION:
        return (
            f"{region!r} is in the {partition} partition; this platform builds ARNs of the "
            f"{SUPPORTED_PARTITION} partition only (arn:{SUPPORTED_PARTITION}:...), so deploy to one of its regions"
        )
    return None


def check_region(region: str) -> str:
    """A pydantic validator: the region, or ValueError saying why it cannot be deployed to."""
    if (problem := region_problem(region)) is not None:
        raise ValueError(problem)
    return region
