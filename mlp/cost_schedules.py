"""How often a schedule runs per month, for the cost estimate (mlp/cost_estimate.py): EventBridge Scheduler
expressions (`rate(...)`, `cron(...)`) counted over the price book's hours per month.
"""

from __future__ import annotations

import re
from typing import Any


def pipeline_runs_per_month(pipeline: dict[str, Any], schedules: list[dict[str, Any]], hours: float) -> float | None:
    """Runs per month of a pipeline: from the schedule that targets it (by dependency or target ARN), or
    None when none does or its expression cannot be counted."""
    name = str(pipeline["inputs"].get("pipelineName") or pipeline["name"])
    for schedule in schedules:
        target = str((schedule["inputs"].get("target") or {}).get("arn", ""))
        if pipeline["urn"] in schedule.get("dependencies", []) or target.endswith(f":pipeline/{name}"):
            return runs_per_month(str(schedule["inputs"].get("scheduleExpression", "")), hours)
    return None


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_HOURS = {"minute": 1 / 60, "hour": 1.0, "day": 24.0}


def runs_per_month(expression: str, hours: float) -> float | None:
    """Runs per month of an EventBridge Scheduler expression, or None when it cannot be counted.

    rate(N unit) runs hours/(N unit) times; cron(min hour day-of-month month day-of-week year) with fixed
    minutes and hours runs once per listed time on each matching day: every day (hours/24 days), listed
    days of the month, or listed weekdays (hours/24/7 weeks each). Other forms are not counted.
    """
    expression = expression.strip()
    rate = _RATE.match(expression)
    if rate:
        every = int(rate.group(1)) * _UNIT_HOURS[rate.group(2).rstrip("s")]
        return hours / every if every else None
    if not (expression.startswith("cron(") and expression.endswith(")")):
        return None
    return _cron_runs(expression[5:-1].split(), hours)


def _cron_runs(fields: list[str], hours: float) -> float | None:
    if len(fields) != 6:
        return None
    minutes, hours_field, dom, month, dow, _year = fields
    at_minutes = _count(minutes)
    at_hours = 24 if hours_field == "*" else _count(hours_field)
    if at_minutes is None or at_hours is None or month not in ("*", "?"):
        return None
    per_day = at_minutes * at_hours
    days = hours / 24
    if dom in ("*", "?") and dow in ("*", "?"):
        return per_day * days
    if dow in ("*", "?"):
        listed = _count(dom)
        return per_day * listed if listed else None
    listed = _count(dow)
    return per_day * listed * days / 7 if listed else None


def _count(field_value: str) -> int | None:
    """How many values a fixed cron field lists ("5", "1,15", "MON-FRI" style ranges); None otherwise."""
    total = 0
    for part in field_value.split(","):
        if re.fullmatch(r"\d+|[A-Z]{3}", part):
            total += 1
        elif re.fullmatch(r"\d+-\d+", part):
            a, b = (int(x) for x in part.split("-"))
            total += b - a + 1 if b >= a else 0
        elif re.fullmatch(r"[A-Z]{3}-[A-Z]{3}", part):
            days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
            a, b = (days.index(x) if x in days else -1 for x in part.split("-"))
            if a < 0 or b < a:
                return None
            total += b - a + 1
        else:
            return None
    return total or None
