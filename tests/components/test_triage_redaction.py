"""Redaction: a payload with a valid card number, an email and a field the environment marks as personal
reaches neither the (stubbed) Bedrock prompt, nor the GitHub issue (a local HTTP server), nor the topic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws

from components.functions.triage.handler import lambda_handler
from components.functions.triage.redaction import (
    CARD,
    EMAIL,
    IBAN,
    PERSONAL,
    iban_valid,
    luhn_valid,
    redact,
    redact_text,
)
from tests.components import triage_fixtures as fx
from tests.components.test_triage_llm import LLM, converse_answer
from tests.local_server import serving

LEAKS = (fx.CARD, fx.CARD.replace(" ", ""), fx.EMAIL, fx.HOLDER)


class GithubApi(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        GithubApi.received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
        answer = json.dumps({"html_url": "https://github.com/payments-co/incidents/issues/7"}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def github() -> Iterator[str]:
    GithubApi.received = []
    with serving(HTTPServer(("127.0.0.1", 0), GithubApi)) as server:
        yield f"http://127.0.0.1:{server.server_port}"


def test_personal_and_card_data_never_reach_the_prompt_the_issue_or_the_topic(github: str) -> None:
    with mock_aws():
        world = fx.build_world(alarm_reason=f"Threshold Crossed; sample request {fx.PAYLOAD}")
        boto3.client("dynamodb", region_name=fx.REGION).create_table(
            TableName=LLM["budget_table"],
            KeySchema=[{"AttributeName": "hour", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "hour", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        boto3.client("secretsmanager", region_name=fx.REGION).create_secret(
            Name="ml-platform/triage-github", SecretString="ghp_test_token"
        )
        client = boto3.client("bedrock-runtime", region_name=fx.REGION)
        prompts: list[dict[str, Any]] = []
        client.meta.events.register(
            "provide-client-params.bedrock-runtime.Converse", lambda params, **_: prompts.append(params)
        )
        stub = Stubber(client)
        # The model echoes what it was given, and a card number of its own: the answer is redacted too.
        stub.add_response(
            "converse",
            converse_answer(f"The request of {fx.HOLDER} with card 5555555555554444 failed."),
            {
                "modelId": LLM["model_id"],
                "system": ANY,
                "messages": ANY,
                "inferenceConfig": ANY,
                "guardrailConfig": ANY,
            },
        )
        stub.activate()
        world.clients.bedrock_runtime = client
        settings = fx.settings(
            llm=LLM,
            github={
                "repository": "payments-co/incidents",
                "token_secret": "ml-platform/triage-github",
                "api_url": github,
                "labels": ["triage"],
            },
        )

        result = lambda_handler(
            fx.alarm_event(reason=f"Threshold Crossed; sample request {fx.PAYLOAD}"),
            clients=world.clients,
            settings=settings,
        )
        topic_messages = world.messages()

    assert result["triaged"][0]["problems"] == []
    assert result["triaged"][0]["delivered"][1] == "issue https://github.com/payments-co/incidents/issues/7"
    prompt = json.dumps(prompts)
    [issue] = GithubApi.received
    [message] = topic_messages
    outputs = {
        "prompt": prompt,
        "issue": json.dumps(issue["body"]),
        "topic": message["Body"] + json.dumps(message.get("MessageAttributes", {})),
    }
    for where, text in outputs.items():
        for leak in LEAKS:
            assert leak not in text, f"{leak!r} reached the {where}"
        assert "5555555555554444" not in text
    # Redacted, not dropped: the reader sees that something was there.
    for text in (prompt, issue["body"]["body"], message["Body"]):
        assert CARD in text and EMAIL in text and PERSONAL in text
    assert issue["path"] == "/repos/payments-co/incidents/issues"
    assert issue["headers"]["Authorization"] == "Bearer ghp_test_token"
    assert issue["body"]["labels"] == ["triage"]
    assert issue["body"]["title"] == "[triage stg] stg-fraud-scoring-p99-latency ALARM fraud-scoring v15"
    assert "ghp_test_token" not in message["Body"]


def test_luhn_and_iban_checks() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("5555555555554444")
    assert not luhn_valid("4111111111111112")
    assert iban_valid("GB82WEST12345698765432") and iban_valid("DE89 3704 0044 0532 0130 00")
    assert not iban_valid("GB82WEST12345698765433")


def test_only_luhn_valid_numbers_are_cards_so_ids_and_timestamps_survive() -> None:
    text = "order 4111111111111112 at 1732968000000 for card 4111-1111-1111-1111 and 5555 5555 5555 4444"
    assert redact_text(text) == f"order 4111111111111112 at 1732968000000 for card {CARD} and {CARD}"


def test_emails_ibans_and_personal_fields_in_log_lines_and_json() -> None:
    line = 'user=a.b+c@mail.example.co.uk iban=GB82 WEST 1234 5698 7654 32 cardholder_name="Jane Doe" amount=12'
    assert redact_text(line, ["cardholder_name"]) == f'user={EMAIL} iban={IBAN} cardholder_name="{PERSONAL}" amount=12'
    payload = '{"cardholder_name": "Jane \\"JD\\" Doe", "amount": 3, "note": "x"}'
    assert json.loads(redact_text(payload, ["cardholder_name"])) == {
        "cardholder_name": PERSONAL,
        "amount": 3,
        "note": "x",
    }
    assert redact_text("cardholder_name: Jane", ["cardholder_name"]) == f"cardholder_name: {PERSONAL}"


def test_structures_are_redacted_value_by_value() -> None:
    value = {
        "pan": 4111111111111111,
        "cardholder_name": {"first": "Jane"},
        "items": [{"email": "x@y.io"}],
        "ts": 1732968000000,
        "ok": True,
    }
    assert redact(value, ["cardholder_name"]) == {
        "pan": CARD,
        "cardholder_name": PERSONAL,
        "items": [{"email": EMAIL}],
        "ts": 1732968000000,
        "ok": True,
    }


def test_a_subject_that_redaction_lengthens_still_fits_sns() -> None:
    from components.functions.triage.deliver import MAX_SUBJECT_CHARS, publish
    from components.functions.triage.redaction import Redactor

    sent: list[dict[str, Any]] = []

    class Sns:
        def publish(self, **kwargs: Any) -> dict[str, str]:
            sent.append(kwargs)
            return {"MessageId": "1"}

    subject = "[triage stg] " + " ".join(["a@b.io"] * 12)
    assert len(subject) < MAX_SUBJECT_CHARS
    publish(Sns(), "arn:aws:sns:eu-west-1:123456789012:t", subject, "note", Redactor())
    assert len(sent[0]["Subject"]) == MAX_SUBJECT_CHARS  # lengthened by redaction, then cut
    assert "@" not in sent[0]["Subject"]
