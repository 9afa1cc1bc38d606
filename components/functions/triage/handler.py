"""Entry points: `lambda_handler` (SNS-delivered CloudWatch alarms) and `triage` (also `mlp triage`)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import deliver, note
from .gather import Alarm, Clients, Context, alarm_from_message, gather, make_clients
from .redaction import Redactor
from .settings import Settings, load_settings
from .summary import summarise


@dataclass
class Result:
    title: str
    note: str
    context: Context
    delivered: list[str] = field(default_factory=list)
    """What was posted: `topic <arn>`, `issue <url>`."""
    problems: list[str] = field(default_factory=list)
    """Why the AI summary or a delivery did not happen."""


def triage(clients: Clients, settings: Settings, alarm: Alarm, *, deliver_note: bool, use_llm: bool) -> Result:
    """Gather, render, redact, optionally summarise, and optionally post one alarm's triage note."""
    redact = Redactor(settings.personal_fields)
    model = settings.model_for(alarm.name, alarm.dimensions)
    ctx = gather(clients, alarm, model, settings.lookback_minutes)
    ctx.deploy_commit = settings.deploy_commit
    # The deterministic note is redacted first, so the redactor learns the personal values it holds.
    plain = redact(note.render(ctx, settings.environment))
    title = redact(note.title(ctx, settings.environment))
    problems: list[str] = []
    summary: str | None = None
    if use_llm and settings.llm is not None:
        # The prompt is the deterministic note, redacted: nothing else reaches the model.
        summary, why = summarise(
            clients.bedrock_runtime,
            clients.dynamodb,
            settings.llm,
            plain,
            redact,
        )
        if why:
            problems.append(why)
    text = redact(note.render(ctx, settings.environment, summary))
    result = Result(title=title, note=text, context=ctx, problems=problems)
    if not deliver_note:
        return result
    team = model.team if model else None
    topic = settings.notify_topics.get(team) if team else None
    if topic:
        try:
            deliver.publish(clients.sns, topic, title, text, redact)
            result.delivered.append(f"topic {topic}")
        except Exception as exc:  # noqa: BLE001 - the issue may still be opened
            problems.append(f"publishing to {topic} failed: {type(exc).__name__}")
    if settings.github is not None:
        try:
            url = deliver.open_issue(clients.secretsmanager, settings.github, title, text, redact)
            result.delivered.append(f"issue {url}")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"opening the GitHub issue failed: {type(exc).__name__}")
    return result


def alarms_in(event: dict[str, Any]) -> list[Alarm]:
    """CloudWatch alarm notifications in an SNS event; anything else (our own notes, test messages) is
    skipped."""
    found = []
    for record in event.get("Records", []):
        notification = record.get("Sns") or {}
        if deliver.NOTE_ATTRIBUTE in (notification.get("MessageAttributes") or {}):
            continue
        try:
            message = json.loads(notification.get("Message") or "")
        except ValueError:
            continue
        if isinstance(message, dict) and "AlarmName" in message:
            found.append(alarm_from_message(message))
    return found


def lambda_handler(
    event: dict[str, Any], context: Any = None, *, clients: Clients | None = None, settings: Settings | None = None
) -> dict[str, Any]:
    settings = settings or load_settings()
    clients = clients or make_clients(settings.region)
    results = []
    for alarm in alarms_in(event):
        if alarm.state != "ALARM":
            continue  # OK and INSUFFICIENT_DATA transitions need no triage
        r = triage(clients, settings, alarm, deliver_note=True, use_llm=True)
        # Only redacted text is logged.
        print(json.dumps({"alarm": r.title, "delivered": r.delivered, "problems": r.problems}))
        results.append({"title": r.title, "delivered": r.delivered, "problems": r.problems})
    return {"triaged": results}
