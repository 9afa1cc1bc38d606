"""The optional AI summary: one Bedrock Converse call through the environment's guardrail, capped.

Caps: `maxTokens` on the answer, the prompt cut to `max_prompt_chars`, and at most `max_calls_per_hour`
calls per clock hour for the environment — a DynamoDB counter per hour, incremented only while below the
cap (a conditional update, so concurrent invocations cannot overshoot). Any failure (cap reached, Bedrock
error, guardrail intervention) returns None with the reason: the note goes out without the summary.
Prompt and answer are redacted by us first; the guardrail anonymizes again and Bedrock's invocation
logging keeps both for audit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .settings import LlmSettings

SYSTEM_PROMPT = (
    "You help an on-call engineer triage an alarm on a machine-learning model endpoint of a payments company. "
    "Below is a triage note built from facts. In at most five short bullet points say: the most likely cause, "
    "what evidence supports it, and the single next step. Use only the facts given; say when they are not enough. "
    "Never ask for or repeat personal or card data."
)
CUT_MARK = "\n[... cut to the cap]"
HOUR_SECONDS = 3600
# The counter's items expire a day after their hour (DynamoDB TTL attribute), so the table stays tiny.
COUNTER_TTL_SECONDS = 86_400


def reserve_call(dynamodb: Any, settings: LlmSettings, now: float | None = None) -> bool:
    """Count one call against this hour's cap; False when the cap is reached."""
    now = time.time() if now is None else now
    hour = time.strftime("%Y-%m-%dT%H", time.gmtime(now))
    try:
        dynamodb.update_item(
            TableName=settings.budget_table,
            Key={"hour": {"S": hour}},
            UpdateExpression="ADD calls :one SET expires_at = :ttl",
            ConditionExpression="attribute_not_exists(calls) OR calls < :max",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":max": {"N": str(settings.max_calls_per_hour)},
                ":ttl": {"N": str(int(now) - int(now) % HOUR_SECONDS + HOUR_SECONDS + COUNTER_TTL_SECONDS)},
            },
        )
    except Exception as exc:
        if type(exc).__name__ == "ConditionalCheckFailedException" or "ConditionalCheckFailed" in str(exc):
            return False
        raise
    return True


def prompt_text(note: str, settings: LlmSettings, redact: Callable[[str], str]) -> str:
    """The user message: the (already redacted) note, redacted again and cut to the cap."""
    text = redact(note)
    if len(text) > settings.max_prompt_chars:
        text = text[: settings.max_prompt_chars - len(CUT_MARK)] + CUT_MARK
    return text


def summarise(
    bedrock_runtime: Any, dynamodb: Any, settings: LlmSettings, note: str, redact: Callable[[str], str]
) -> tuple[str | None, str | None]:
    """(summary, None) or (None, why there is none)."""
    if not settings.guardrail_id or not settings.guardrail_version:
        return None, "no guardrail configured: the AI summary is only made through one"
    try:
        if not reserve_call(dynamodb, settings):
            return None, f"the cap of {settings.max_calls_per_hour} AI summaries per hour is reached"
        response = bedrock_runtime.converse(
            modelId=settings.model_id,
            system=[{"text": SYSTEM_PROMPT}],
            messages=[{"role": "user", "content": [{"text": prompt_text(note, settings, redact)}]}],
            inferenceConfig={"maxTokens": settings.max_output_tokens, "temperature": 0.0},
            guardrailConfig={
                "guardrailIdentifier": settings.guardrail_id,
                "guardrailVersion": settings.guardrail_version,
                "trace": "disabled",
            },
        )
    except Exception as exc:  # noqa: BLE001 - any failure leaves the deterministic note
        return None, f"the AI summary failed: {type(exc).__name__}"
    if response.get("stopReason") == "guardrail_intervened":
        return None, "the guardrail blocked the AI summary"
    parts = response.get("output", {}).get("message", {}).get("content", [])
    text = "\n".join(p["text"] for p in parts if isinstance(p, dict) and p.get("text"))
    if not text.strip():
        return None, "the model returned no text"
    return redact(text), None
