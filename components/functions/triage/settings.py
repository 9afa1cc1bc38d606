"""What the function knows about its environment: `config.json` (packaged next to this file by the stack,
or built from the environment file by `mlp triage`) plus the few values only known after deployment, which
the stack passes as environment variables."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CONFIG_FILE = Path(__file__).with_name("config.json")
# Environment variables the stack sets (components/triage.py).
GUARDRAIL_ID_VAR = "GUARDRAIL_ID"
GUARDRAIL_VERSION_VAR = "GUARDRAIL_VERSION"
REPORT_BUCKETS_VAR = "REPORT_BUCKETS"
DEPLOY_COMMIT_VAR = "DEPLOY_COMMIT"
# Model Monitor (and the report-writing monitoring jobs) write under this prefix of the capture bucket.
REPORT_PREFIX = "monitoring/"


@dataclass(frozen=True)
class ModelInfo:
    model: str
    team: str
    version: int
    registry_group: str
    endpoint: str
    rollout: str
    runbook_url: str
    runbook_rollback: str
    """The runbook's "Roll back by pull request" section."""
    runbook_stop_rollout: str
    """The runbook's "Stop a rollout in progress" section."""
    report_bucket: str | None = None
    """Bucket holding the endpoint's monitoring reports (the capture bucket), when it captures data."""


@dataclass(frozen=True)
class LlmSettings:
    model_id: str
    max_output_tokens: int
    max_prompt_chars: int
    max_calls_per_hour: int
    budget_table: str
    guardrail_id: str = ""
    guardrail_version: str = ""


@dataclass(frozen=True)
class GithubSettings:
    repository: str
    token_secret: str
    api_url: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class Settings:
    environment: str
    region: str
    account_id: str
    lookback_minutes: int
    personal_fields: tuple[str, ...]
    models: tuple[ModelInfo, ...]
    notify_topics: dict[str, str]
    """Team -> ARN of the topic that receives its triage notes."""
    llm: LlmSettings | None = None
    github: GithubSettings | None = None
    deploy_commit: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def model_for(self, alarm_name: str, dimensions: dict[str, str]) -> ModelInfo | None:
        """The model an alarm is about: by its endpoint dimension, else by the alarm name's prefix."""
        endpoint = dimensions.get("EndpointName") or dimensions.get("Endpoint")
        for m in self.models:
            if endpoint and m.endpoint == endpoint:
                return m
        prefixed = [m for m in self.models if alarm_name.startswith(f"{self.environment}-{m.model}-")]
        return max(prefixed, key=lambda m: len(m.model), default=None)


def settings_from_dict(doc: dict[str, Any], environ: dict[str, str] | None = None) -> Settings:
    """Settings from a config document and the deployment's environment variables."""
    environ = dict(os.environ) if environ is None else environ
    buckets: dict[str, str] = json.loads(environ.get(REPORT_BUCKETS_VAR) or "{}")
    models = tuple(
        ModelInfo(**{**m, "report_bucket": buckets.get(m["model"], m.get("report_bucket"))}) for m in doc["models"]
    )
    llm = doc.get("llm")
    github = doc.get("github")
    return Settings(
        environment=doc["environment"],
        region=doc["region"],
        account_id=doc["account_id"],
        lookback_minutes=int(doc["lookback_minutes"]),
        personal_fields=tuple(doc.get("personal_fields", ())),
        models=models,
        notify_topics=dict(doc["notify_topics"]),
        llm=LlmSettings(
            **llm,
            guardrail_id=environ.get(GUARDRAIL_ID_VAR, ""),
            guardrail_version=environ.get(GUARDRAIL_VERSION_VAR, ""),
        )
        if llm
        else None,
        github=GithubSettings(**{**github, "labels": tuple(github.get("labels", ()))}) if github else None,
        deploy_commit=environ.get(DEPLOY_COMMIT_VAR) or None,
    )


def load_settings() -> Settings:
    return settings_from_dict(json.loads(CONFIG_FILE.read_text(encoding="utf-8")))
