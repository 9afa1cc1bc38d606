"""The publish step logs each monitoring run to MLflow over its REST API, signed with SigV4: the handler run on
moto against a real MLflow server (mlflow's own app, on 127.0.0.1 in a thread) behind a recorder that checks
every request's signature and ARN header; an MLflow failing with 500 leaves CloudWatch published; the function
gets the server's ARN and its role exactly the MLflow actions its code calls."""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from moto import mock_aws

from components.evidently_monitoring import FUNCTION_SOURCE
from components.functions.monitoring import mlflow_run, publish_run
from components.jobs.metrics_contract import DRIFT_METRIC, METRICS_JSON, NAMESPACE
from mlp.plan import Plan
from tests.components.test_evidently_monitoring import REGISTRY_ACCOUNT, policy_of
from tests.components.test_monitoring_isolation import MODEL, plan  # noqa: F401 - plan is a module fixture
from tests.conftest import one_of
from tests.local_server import serving

# The server's ARN is in another region than the function, as a registry's server can be: signing uses its region.
SERVER_REGION = "eu-central-1"
ARN = f"arn:aws:sagemaker:{SERVER_REGION}:{REGISTRY_ACCOUNT}:mlflow-tracking-server/dev-mlflow"
KEY, SECRET, TOKEN = "AKIDMONITORTEST", "monitor-test-secret", "monitor-test-token"
BUCKET = "capture-bucket"
READBACK = "HTTP_X_TEST_READBACK"
"""The tests' own reads of the server carry this header; the recorder leaves them out."""
AUTHORIZATION = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[^,]+), Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass
class Recorder:
    """Every request the server got: its MLflow operation, and whether its SigV4 signature and ARN header hold."""

    port: int = 0
    operations: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    fail_with: int | None = None

    def check(self, environ: dict[str, Any], body: bytes) -> None:
        path = environ["PATH_INFO"].removeprefix(mlflow_run.API_PREFIX)
        operation = next((o for o, (m, p) in mlflow_run.OPERATIONS.items() if p == path), f"? {path}")
        self.operations.append(operation)
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        if headers.get(mlflow_run.ARN_HEADER) != ARN:
            self.problems.append(f"{operation}: ARN header {headers.get(mlflow_run.ARN_HEADER)!r}")
        found = AUTHORIZATION.match(headers.get("authorization", ""))
        if not found or (found["key"], found["region"], found["service"]) != (KEY, SERVER_REGION, "sagemaker-mlflow"):
            self.problems.append(f"{operation}: authorization {headers.get('authorization')!r}")
            return
        # Recompute the signature as AWS would, from what arrived: method, path, query, signed headers, body.
        signed = found["signed"].split(";")
        query = environ.get("QUERY_STRING", "")
        url = f"http://127.0.0.1:{self.port}{quote(environ['PATH_INFO'])}" + (f"?{query}" if query else "")
        request = AWSRequest(
            method=environ["REQUEST_METHOD"],
            url=url,
            data=body or None,
            headers={h: headers[h] for h in signed if h != "host"},
        )
        request.context["timestamp"] = headers["x-amz-date"]
        auth = SigV4Auth(Credentials(KEY, SECRET, TOKEN), "sagemaker-mlflow", SERVER_REGION)
        expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
        # The signature covers the body through this header: it must be the body's hash.
        if headers.get("x-amz-content-sha256") != hashlib.sha256(body).hexdigest():
            self.problems.append(f"{operation}: X-Amz-Content-SHA256 is not the body's")
        if expected != found["signature"]:
            self.problems.append(f"{operation}: signature does not verify")
        if not {"host", "x-amz-date", "x-amz-security-token", mlflow_run.ARN_HEADER} <= set(signed):
            self.problems.append(f"{operation}: signed headers {signed}")


@pytest.fixture(scope="module")
def server() -> Iterator[Recorder]:
    """mlflow's server app on a SQLite store, behind the recorder, in a daemon thread; shut down after."""
    from mlflow.server.constants import ARTIFACT_ROOT_ENV_VAR, BACKEND_STORE_URI_ENV_VAR
    from werkzeug.serving import make_server

    with tempfile.TemporaryDirectory() as folder:
        saved = {v: os.environ.get(v) for v in (BACKEND_STORE_URI_ENV_VAR, ARTIFACT_ROOT_ENV_VAR)}
        os.environ[BACKEND_STORE_URI_ENV_VAR] = f"sqlite:///{folder}/mlflow.db"
        os.environ[ARTIFACT_ROOT_ENV_VAR] = f"{folder}/artifacts"
        from mlflow.server import app

        recorder = Recorder()

        def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            if READBACK not in environ:
                recorder.check(environ, body)
            if recorder.fail_with:
                start_response(f"{recorder.fail_with} Injected", [("Content-Type", "application/json")])
                return [b'{"error_code": "INJECTED"}']
            environ["wsgi.input"] = io.BytesIO(body)
            return app.wsgi_app(environ, start_response)

        httpd = make_server("127.0.0.1", 0, recording, threaded=True)
        recorder.port = httpd.server_port
        try:
            with serving(httpd):
                # The app creates its tables on the first request (seconds): not inside a test's 5 s timeout.
                rest(recorder, "experiments/search", {"max_results": 1})
                yield recorder
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def rest(server: Recorder, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read back from the server, unsigned (it checks nothing; the recorder only records)."""
    url = f"http://127.0.0.1:{server.port}{mlflow_run.API_PREFIX}{path}"
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json", "X-Test-Readback": "1"}
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the local test server
        answer: dict[str, Any] = json.loads(response.read())
        return answer


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, server: Recorder) -> Iterator[tuple[Any, Any]]:
    """moto S3 and CloudWatch, the role's credentials, and the function's environment pointing at the server."""
    for name, value in {
        "AWS_SESSION_TOKEN": TOKEN,
        "AWS_DEFAULT_REGION": "eu-west-1",
        publish_run.TRACKING_ARN_VARIABLE: ARN,
        mlflow_run.ENDPOINT_OVERRIDE: f"http://127.0.0.1:{server.port}",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(mlflow_run, "RETRY_DELAYS", (0.0, 0.0))
    server.operations.clear()
    server.problems.clear()
    server.fail_with = None
    with mock_aws():
        # The role's keys, in place of moto's fake ones (moto puts its originals back on exit).
        os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"] = KEY, SECRET
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield s3, boto3.client("cloudwatch", region_name="eu-west-1")


def put_run(s3: Any, model: str, run: str, now: str, drift: float) -> dict[str, Any]:
    """A run's metrics.json as the drift job writes it, and the publish step's event."""
    run_uri = f"s3://{BUCKET}/monitoring/{model}/v12/{run}"
    metrics = {
        "rows": 40,
        "drift": {"amount": drift, "merchant": 0.05, "constant": float("nan")},
        "missing": {"amount": 3, "merchant": 0},
        "quality": {"recall": 0.75},
        "labelled": 20,
        "window": [],
        "now": now,
    }
    body = json.dumps(metrics).encode()  # NaN for the constant column, as the job writes it
    s3.put_object(Bucket=BUCKET, Key=f"monitoring/{model}/v12/{run}/{METRICS_JSON}", Body=body)
    return {
        "run_uri": run_uri,
        "latest_uri": f"s3://{BUCKET}/monitoring/{model}/v12/latest.json",
        "environment": "prod",
        "model": model,
        "version": "12",
    }


def runs_of(server: Recorder, experiment_id: str) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = rest(server, "runs/search", {"experiment_ids": [experiment_id]}).get("runs", [])
    return runs


def test_each_run_logs_to_the_versions_run_signed_and_reuses_it(aws: tuple[Any, Any], server: Recorder) -> None:
    s3, cloudwatch = aws
    model = "card-fraud"
    first = put_run(s3, model, "run-1", "2026-11-30T12:00:00+00:00", drift=0.42)
    assert publish_run.lambda_handler(first, None) == {"published": "7"}
    experiment = rest(server, f"experiments/get-by-name?experiment_name=prod-{model}-monitoring")["experiment"]
    [run] = runs_of(server, experiment["experiment_id"])
    assert run["info"]["run_name"] == "v12" and run["info"]["status"] == "FINISHED"
    tags = {t["key"]: t["value"] for t in run["data"]["tags"]}
    assert {k: tags[k] for k in ("version", "model", "environment", "report_uri")} == {
        "version": "12",
        "model": model,
        "environment": "prod",
        "report_uri": f"{first['run_uri']}/",
    }
    metrics = {m["key"]: m["value"] for m in run["data"]["metrics"]}
    # metrics.json's names; the constant column's NaN drift is left out, as CloudWatch leaves it out.
    assert metrics == {
        "rows": 40.0,
        "labelled": 20.0,
        "drift.amount": 0.42,
        "drift.merchant": 0.05,
        "missing.amount": 3.0,
        "missing.merchant": 0.0,
        "quality.recall": 0.75,
    }
    assert server.operations == [
        "GetExperimentByName",
        "CreateExperiment",
        "SearchRuns",
        "CreateRun",
        "LogBatch",
        "UpdateRun",
    ]
    assert server.problems == []

    # The next run finds the experiment and the version's run: one run, a second point, the newest report.
    server.operations.clear()
    second = put_run(s3, model, "run-2", "2026-11-30T13:00:00+00:00", drift=0.61)
    publish_run.lambda_handler(second, None)
    [again] = runs_of(server, experiment["experiment_id"])
    assert again["info"]["run_id"] == run["info"]["run_id"]
    assert {t["key"]: t["value"] for t in again["data"]["tags"]}["report_uri"] == f"{second['run_uri']}/"
    history = rest(server, f"metrics/get-history?run_id={run['info']['run_id']}&metric_key=drift.amount")["metrics"]
    noon = int(datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp() * 1000)  # each run's "now", in ms
    assert sorted((m["timestamp"], m["value"]) for m in history) == [(noon, 0.42), (noon + 3_600_000, 0.61)]
    assert server.operations == ["GetExperimentByName", "SearchRuns", "LogBatch", "UpdateRun"]
    assert server.problems == []
    published = cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName=DRIFT_METRIC)["Metrics"]
    assert {d["Value"] for m in published for d in m["Dimensions"] if d["Name"] == "feature"} == {"amount", "merchant"}


def test_an_mlflow_failing_with_500_leaves_cloudwatch_published_after_bounded_retries(
    aws: tuple[Any, Any], server: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, cloudwatch = aws
    server.fail_with = 500
    event = put_run(s3, "down-model", "run-1", "2026-11-30T12:00:00+00:00", drift=0.3)
    assert publish_run.lambda_handler(event, None) == {"published": "7"}
    # The first call, tried ATTEMPTS times, then nothing more: one line in the log.
    assert server.operations == ["GetExperimentByName"] * mlflow_run.ATTEMPTS
    [line] = capsys.readouterr().out.splitlines()
    assert line == (
        f"MLflow: run {event['run_uri']} not logged to {ARN}: MlflowError: GetExperimentByName: HTTP 500 INJECTED"
    )
    published = cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert {m["MetricName"] for m in published} >= {DRIFT_METRIC, "captured_rows", "quality_recall"}
    latest = json.loads(s3.get_object(Bucket=BUCKET, Key="monitoring/down-model/v12/latest.json")["Body"].read())
    assert latest == {"run": event["run_uri"]}


def test_a_client_error_is_not_retried(
    aws: tuple[Any, Any], server: Recorder, capsys: pytest.CaptureFixture[str]
) -> None:
    s3, _ = aws
    server.fail_with = 403
    publish_run.lambda_handler(put_run(s3, "denied-model", "run-1", "2026-11-30T12:00:00+00:00", drift=0.3), None)
    assert server.operations == ["GetExperimentByName"]
    assert capsys.readouterr().out.rstrip().endswith("GetExperimentByName: HTTP 403 INJECTED")


def test_without_a_tracking_server_nothing_goes_to_mlflow(
    aws: tuple[Any, Any], server: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3, cloudwatch = aws
    monkeypatch.delenv(publish_run.TRACKING_ARN_VARIABLE)
    publish_run.lambda_handler(put_run(s3, "untracked", "run-1", "2026-11-30T12:00:00+00:00", drift=0.3), None)
    assert server.operations == []
    assert cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]


def test_the_endpoint_is_the_arns_region_and_partition() -> None:
    assert mlflow_run.endpoint(ARN) == f"https://{SERVER_REGION}.experiments.sagemaker.aws"
    gov = "arn:aws-us-gov:sagemaker:us-gov-west-1:123456789012:mlflow-tracking-server/x"
    assert mlflow_run.endpoint(gov) == "https://us-gov-west-1.experiments.sagemaker.aws"
    with pytest.raises(mlflow_run.MlflowError, match="partition aws-cn has no known MLflow endpoint"):
        mlflow_run.endpoint("arn:aws-cn:sagemaker:cn-north-1:123456789012:mlflow-tracking-server/x")
    with pytest.raises(mlflow_run.MlflowError, match="is not a tracking server ARN"):
        mlflow_run.endpoint("arn:aws:sagemaker:eu-west-1:123456789012:model-package-group/x")


def called_operations() -> set[str]:
    """The MLflow operations the client's code calls: the first argument of every `client.call(...)`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((FUNCTION_SOURCE / "mlflow_run.py").read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "call"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "client"
        ):
            [first, *_] = node.args
            assert isinstance(first, ast.Constant), f"mlflow_run.py:{node.lineno}: operation is not a literal"
            found.add(str(first.value))
    return found


def test_the_publish_function_gets_the_servers_arn_and_exactly_the_actions_its_code_calls(
    plan: Plan,  # noqa: F811 - the isolation tests' module fixture
) -> None:
    # prod serves from dev's registry, which runs the tracking server: the function logs to dev's server.
    server_arn = f"arn:aws:sagemaker:eu-west-1:{REGISTRY_ACCOUNT}:mlflow-tracking-server/dev-mlflow"
    function = one_of(plan, "aws:lambda/function:Function", f"{MODEL}-monitor-publish-function")["inputs"]
    assert function["environment"] == {"variables": {publish_run.TRACKING_ARN_VARIABLE: server_arn}}
    select = one_of(plan, "aws:lambda/function:Function", f"{MODEL}-monitor-select-function")["inputs"]
    assert "environment" not in select
    statement = policy_of(plan, f"{MODEL}-monitor-publish-role-policy")["LogRunsToMlflow"]
    assert statement["Resource"] == [server_arn]
    assert set(statement["Action"]) == {f"sagemaker-mlflow:{o}" for o in called_operations()}
    assert set(mlflow_run.ACTIONS) == {f"sagemaker-mlflow:{o}" for o in mlflow_run.OPERATIONS}
    assert called_operations() == set(mlflow_run.OPERATIONS)
    assert "LogRunsToMlflow" not in policy_of(plan, f"{MODEL}-monitor-select-role-policy")


def test_the_logging_statement_takes_only_known_logging_actions() -> None:
    from components.mlflow import logging_statement

    assert logging_statement(ARN, mlflow_run.ACTIONS)["Action"] == list(mlflow_run.ACTIONS)
    with pytest.raises(ValueError, match=r"not logging actions: sagemaker-mlflow:DeleteExperiment \(allowed: "):
        logging_statement(ARN, ("sagemaker-mlflow:DeleteExperiment", "sagemaker-mlflow:LogBatch"))
