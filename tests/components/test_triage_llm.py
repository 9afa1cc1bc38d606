"""The AI summary: one Converse call through botocore's Stubber, with the guardrail's id and version and the
token cap; the calls-per-hour cap (a DynamoDB counter in moto); the note still complete when Bedrock fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from components.functions.triage.handler import lambda_handler
from components.functions.triage.note import AI_HEADING
from components.functions.triage.summary import SYSTEM_PROMPT
from tests.components import triage_fixtures as fx

LLM = {
    "model_id": "anthropic.claude-3-haiku-20240307-v1:0",
    "max_output_tokens": 300,
    "max_prompt_chars": 6000,
    "max_calls_per_hour": 2,
    "budget_table": "stg-triage-llm-calls",
}


def converse_answer(text: str, stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": stop,
        "usage": {"inputTokens": 900, "outputTokens": 60, "totalTokens": 960},
        "metrics": {"latencyMs": 800},
    }


EXPECTED_CALL = {
    "modelId": LLM["model_id"],
    "system": [{"text": SYSTEM_PROMPT}],
    "messages": ANY,
    "inferenceConfig": {"maxTokens": 300, "temperature": 0.0},
    "guardrailConfig": {"guardrailIdentifier": "gr0123456789", "guardrailVersion": "1", "trace": "disabled"},
}


@pytest.fixture
def world() -> Iterator[fx.World]:
    with mock_aws():
        world = fx.build_world()
        boto3.client("dynamodb", region_name=fx.REGION).create_table(
            TableName=LLM["budget_table"],
            KeySchema=[{"AttributeName": "hour", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "hour", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield world


def bedrock(world: fx.World) -> tuple[Stubber, list[dict[str, Any]]]:
    """A stubbed bedrock-runtime client on the world's clients; returns the stubber and the prompts sent."""
    client = boto3.client("bedrock-runtime", region_name=fx.REGION)
    sent: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse", lambda params, **_: sent.append(params)
    )
    world.clients.bedrock_runtime = client
    stub = Stubber(client)
    stub.activate()
    return stub, sent


def test_the_summary_goes_through_the_guardrail_with_the_token_cap_and_is_marked_as_ai(world: fx.World) -> None:
    stub, sent = bedrock(world)
    stub.add_response("converse", converse_answer("- Likely the v15 rollout: p99 350 ms vs 90 ms."), EXPECTED_CALL)

    result = lambda_handler(fx.alarm_event(), clients=world.clients, settings=fx.settings(llm=LLM))

    stub.assert_no_pending_responses()
    assert result["triaged"][0]["problems"] == []
    prompt = sent[0]["messages"][0]["content"][0]["text"]
    assert prompt.startswith("## [triage stg] stg-fraud-scoring-p99-latency ALARM")  # the deterministic note
    assert AI_HEADING not in prompt
    note = world.messages()[0]["Body"]
    assert note.endswith(f"{AI_HEADING}\n\n- Likely the v15 rollout: p99 350 ms vs 90 ms.\n")
    assert "| primary | latency p99 (ms) | 350 | 90 | 85 |" in note  # the facts stay


def test_the_prompt_is_cut_to_its_cap(world: fx.World) -> None:
    stub, sent = bedrock(world)
    stub.add_response("converse", converse_answer("ok"), EXPECTED_CALL)
    lambda_handler(fx.alarm_event(), clients=world.clients, settings=fx.settings(llm={**LLM, "max_prompt_chars": 600}))
    prompt = sent[0]["messages"][0]["content"][0]["text"]
    assert len(prompt) <= 600
    assert prompt.endswith("[... cut to the cap]")


@pytest.mark.parametrize(
    ("failure", "problem"),
    [
        ("ThrottlingException", "the AI summary failed: ThrottlingException"),
        ("AccessDeniedException", "the AI summary failed: AccessDeniedException"),
        ("guardrail", "the guardrail blocked the AI summary"),
    ],
)
def test_the_note_goes_out_without_the_summary_when_bedrock_fails(world: fx.World, failure: str, problem: str) -> None:
    stub, _ = bedrock(world)
    if failure == "guardrail":
        stub.add_response("converse", converse_answer("blocked text", stop="guardrail_intervened"), EXPECTED_CALL)
    else:
        stub.add_client_error("converse", service_error_code=failure, http_status_code=400)

    result = lambda_handler(fx.alarm_event(), clients=world.clients, settings=fx.settings(llm=LLM))

    assert result["triaged"][0]["problems"] == [problem]
    [message] = world.messages()
    note = message["Body"]
    assert "AI summary" not in note and "blocked text" not in note
    assert f"**Likely cause.** the rollout in progress (to `{fx.NEW_CONFIG}`)" in note
    assert fx.STOP_ROLLOUT in note


def test_no_more_calls_than_the_hourly_cap(world: fx.World) -> None:
    stub, sent = bedrock(world)
    for _ in range(2):
        stub.add_response("converse", converse_answer("summary"), EXPECTED_CALL)
    problems = []
    for _ in range(3):
        world.sagemaker_stub.add_response("describe_endpoint", _endpoint())
        world.cloudwatch_stub.add_response("describe_alarm_history", {"AlarmHistoryItems": []})
        for _ in range(3):
            world.cloudwatch_stub.add_response("get_metric_data", {"MetricDataResults": []})
    for _ in range(4):
        out = lambda_handler(fx.alarm_event(), clients=world.clients, settings=fx.settings(llm=LLM))
        problems.append(out["triaged"][0]["problems"])
    stub.assert_no_pending_responses()
    assert len(sent) == 2
    assert problems[:2] == [[], []]
    assert problems[2:] == [["the cap of 2 AI summaries per hour is reached"]] * 2
    bodies = [m["Body"] for m in world.messages()]
    assert len(bodies) == 4
    assert sum(AI_HEADING in b for b in bodies) == 2


def test_no_guardrail_no_call(world: fx.World) -> None:
    _stub, sent = bedrock(world)
    settings = fx.settings(llm=LLM)
    assert settings.llm is not None
    unguarded = type(settings)(
        **{**settings.__dict__, "llm": type(settings.llm)(**{**settings.llm.__dict__, "guardrail_id": ""})}
    )
    out = lambda_handler(fx.alarm_event(), clients=world.clients, settings=unguarded)
    assert sent == []
    assert out["triaged"][0]["problems"] == ["no guardrail configured: the AI summary is only made through one"]


def _endpoint() -> dict[str, Any]:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return {
        "EndpointName": fx.ENDPOINT,
        "EndpointArn": f"arn:aws:sagemaker:{fx.REGION}:{fx.ACCOUNT}:endpoint/{fx.ENDPOINT}",
        "EndpointConfigName": fx.OLD_CONFIG,
        "EndpointStatus": "InService",
        "CreationTime": now,
        "LastModifiedTime": now,
    }
