"""Alert triage settings of an environment: the function that turns an alarm into a triage note, the
optional AI summary through Amazon Bedrock, and what the redaction step treats as personal data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from components.config.base import Slug, Strict
from components.config.gitops import SecretId

if TYPE_CHECKING:
    from components.config.environment import Environment

# A Bedrock foundation model id as Converse accepts it for on-demand throughput, `provider.model[:version]`
# (botocore bedrock-runtime service-2.json 2023-09-30, shape ConversationalModelId, the
# `[a-z0-9-]{1,63}[.]{1}[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63})` branch; read 2026-11-30). Cross-region
# inference profiles (`eu.anthropic...`) and provisioned models are not accepted: the role is scoped to the
# foundation model's ARN in this region.
BedrockModelId = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,63}\.[a-z0-9-]{1,63}([.:]?[a-z0-9-]{1,63})?$")]
# The retention periods CloudWatch Logs accepts (botocore logs service-2.json, shape Days, documentation;
# read 2026-11-30).
LogRetentionDays = Literal[
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653
]
# Field names in captured payloads and log lines (JSON keys).
FieldName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")]


class TriageLlm(Strict):
    """The optional AI summary: one Bedrock Converse call per alarm, through a guardrail, audited."""

    model_id: BedrockModelId
    """Bedrock foundation model id, e.g. `anthropic.claude-3-haiku-20240307-v1:0`; it must be enabled
    (model access) in the environment's account and region."""
    max_output_tokens: Annotated[int, Field(ge=1, le=4096)] = 512
    """Hard cap on the tokens one call may generate (Converse `inferenceConfig.maxTokens`)."""
    max_prompt_chars: Annotated[int, Field(ge=500, le=50_000)] = 8_000
    """Hard cap on the prompt's length in characters (the context is cut to fit, never the instructions)."""
    max_calls_per_hour: Annotated[int, Field(ge=1, le=1000)] = 20
    """Hard cap on Bedrock calls per clock hour for the whole environment (a counter in DynamoDB,
    incremented only while under the cap); above it the note goes out without the AI summary."""
    audit_log_retention_days: Annotated[int, Field(ge=1, le=3650)] = 90
    """Days the invocation logs (every prompt and answer) are kept in the audit bucket before they expire."""


class TriageGithub(Strict):
    """Where triage notes are also opened as GitHub issues."""

    repository: Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]
    """owner/name of the repository that receives the issues."""
    token_secret: SecretId
    """Name or ARN of an existing Secrets Manager secret holding a token allowed to create issues there
    (fine-grained token: Issues read and write). Never in an environment file or stack config."""
    api_url: Annotated[str, Field(pattern=r"^https://[^\s/]+(/[^\s]*)?$")] = "https://api.github.com"
    """GitHub REST API root (GitHub Enterprise Server: https://HOST/api/v3)."""
    labels: Annotated[list[Annotated[str, Field(min_length=1, max_length=50)]], Field(max_length=10)] = Field(
        default_factory=lambda: ["triage"]
    )
    """Labels of the opened issues."""


class Triage(Strict):
    """An alert-triage function per environment, subscribed to every team's alarm topics."""

    enabled: bool = True
    """Deploy the triage function (a `triage:` section without `enabled: false` turns it on)."""
    notify_severity: Slug = "notify"
    """Severity whose topic of the alarm's team receives the triage note (one of `alerting.severities`)."""
    personal_fields: Annotated[list[FieldName], Field(default_factory=list)]
    """Names of fields in payloads and log lines that hold personal data (e.g. cardholder_name): their
    values are replaced before anything leaves the function. Card numbers (Luhn-valid), emails and IBANs
    are redacted wherever they appear, listed or not."""
    lookback_minutes: Annotated[int, Field(ge=5, le=1440)] = 60
    """Metrics window before the alarm's state change, compared with the same window a day and a week
    earlier."""
    llm: TriageLlm | None = None
    """The optional AI summary; omit for a deterministic note only."""
    github: TriageGithub | None = None
    """Also open each note as a GitHub issue; omit to post to the topic only."""
    timeout_seconds: Annotated[int, Field(ge=10, le=900)] = 60
    """The function's timeout (Lambda allows up to 900 s)."""
    log_retention_days: LogRetentionDays = 30
    """Days the function's own log group keeps its lines."""


def triage_problems(env: Environment) -> list[tuple[tuple[str, ...], str]]:
    """Rules spanning the triage section and alerting, with the fix."""
    triage = env.triage
    if triage is None or not triage.enabled:
        return []
    severities = [s.name for s in env.alerting.severities]
    if triage.notify_severity not in severities:
        return [
            (
                ("triage", "notify_severity"),
                f"severity {triage.notify_severity!r} is not defined; "
                f"alerting.severities here: {', '.join(severities)}",
            )
        ]
    return []
