"""Where the note goes: the team's notify topic, and a GitHub issue when configured. Both receive text that
has passed redaction; this module redacts once more, so nothing unredacted can leave by a new path."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

from .settings import GithubSettings

# The attribute our notes carry: the function's own subscription filters it out (no triage of a triage).
NOTE_ATTRIBUTE = "mlp-triage"
GITHUB_API_VERSION = "2022-11-28"
GITHUB_TIMEOUT_SECONDS = 10
# SNS message bodies are at most 256 KB (botocore sns service-2.json, Publish Message documentation).
MAX_MESSAGE_BYTES = 256 * 1024 - 1024
# Subjects: "UTF-8 text with no line breaks or control characters, and less than 100 characters long"
# (botocore sns service-2.json, PublishInput Subject documentation; read 2026-11-30).
MAX_SUBJECT_CHARS = 99


def publish(sns: Any, topic_arn: str, subject: str, note: str, redact: Callable[[str], str]) -> str:
    body = redact(note).encode()[:MAX_MESSAGE_BYTES].decode(errors="ignore")
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=redact(subject)[:MAX_SUBJECT_CHARS],
        Message=body,
        MessageAttributes={NOTE_ATTRIBUTE: {"DataType": "String", "StringValue": "note"}},
    )
    return str(response.get("MessageId", ""))


def open_issue(secretsmanager: Any, github: GithubSettings, title: str, note: str, redact: Callable[[str], str]) -> str:
    """POST /repos/{owner}/{repo}/issues (https://docs.github.com/en/rest/issues/issues#create-an-issue, read
    2026-11-30); the token is read from Secrets Manager at call time and never logged. Returns the issue URL."""
    token = secretsmanager.get_secret_value(SecretId=github.token_secret)["SecretString"].strip()
    payload = {
        "title": redact(title),
        "body": redact(note),
        "labels": list(github.labels),
    }
    request = urllib.request.Request(  # noqa: S310 - the URL is the configured https API root (or a test server)
        f"{github.api_url.rstrip('/')}/repos/{github.repository}/issues",
        data=json.dumps(payload).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": GITHUB_API_VERSION,
            "Content-Type": "application/json",
            "User-Agent": "ml-platform-triage",
        },
    )
    with urllib.request.urlopen(request, timeout=GITHUB_TIMEOUT_SECONDS) as response:  # noqa: S310
        return str(json.loads(response.read() or b"{}").get("html_url", ""))
