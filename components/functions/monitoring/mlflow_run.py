"""MLflow's REST API, signed with SigV4, for the publish step: the Lambda runtime has botocore but no mlflow.

What the sagemaker-mlflow plugin (0.5.0, read in the dev venv 2026-11-30) does for the mlflow client, done
by hand: requests go to `https://<region of the ARN>.experiments.sagemaker.<dns suffix>` (suffix `aws` in the
`aws` and `aws-us-gov` partitions, no other), carry the tracking server's ARN in header
`x-mlflow-sm-tracking-server-arn` and are signed with SigV4 for service `sagemaker-mlflow` in the ARN's region,
with the body's SHA-256 in `X-Amz-Content-SHA256`. Paths and bodies are MLflow's REST API as the mlflow 3.17
client sends them (`/api/2.0/mlflow/...`, mlflow.protos.service_pb2 via mlflow.utils.rest_utils, read
2026-11-30). `SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT` overrides the endpoint as it does for the plugin (tests only:
the stack never sets it).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode
from urllib.request import Request, urlopen

API_PREFIX = "/api/2.0/mlflow/"
# Every MLflow operation this module calls: its HTTP method and path under API_PREFIX. The IAM action of each is
# sagemaker-mlflow:<operation> (Service Authorization Reference, "Actions, resources, and condition keys for
# Amazon SageMaker with MLflow", read 2026-11-30); the publish role is allowed exactly these (ACTIONS).
OPERATIONS = {
    "GetExperimentByName": ("GET", "experiments/get-by-name"),
    "CreateExperiment": ("POST", "experiments/create"),
    "SearchRuns": ("POST", "runs/search"),
    "CreateRun": ("POST", "runs/create"),
    "LogBatch": ("POST", "runs/log-batch"),
    "UpdateRun": ("POST", "runs/update"),
}
ACTIONS = tuple(sorted(f"sagemaker-mlflow:{operation}" for operation in OPERATIONS))
SIGNING_SERVICE = "sagemaker-mlflow"
ARN_HEADER = "x-mlflow-sm-tracking-server-arn"
ENDPOINT_OVERRIDE = "SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT"
# LogBatch takes at most 1000 metrics, 100 tags and 1000 entities in all (mlflow.utils.validation
# MAX_METRICS_PER_BATCH, MAX_PARAMS_TAGS_PER_BATCH, MAX_ENTITIES_PER_BATCH, mlflow 3.17.2, read 2026-11-30).
BATCH_ENTITIES = 1000
BATCH_TAGS = 100
# Our choices, bounded so that MLflow can never hold the publish function past its 60 s timeout: 3 attempts
# on 429, 5xx and connection errors, each at most 5 s, 20 s for the whole run.
ATTEMPTS = 3
RETRY_DELAYS = (0.5, 2.0)
REQUEST_TIMEOUT_SECONDS = 5.0
BUDGET_SECONDS = 20.0


class MlflowError(Exception):
    """A call that failed for good (after its retries, or a 4xx)."""


def endpoint(arn: str) -> str:
    """The tracking server's API endpoint, from its ARN
    (arn:PARTITION:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME)."""
    parts = arn.split(":")
    if len(parts) != 6 or parts[2] != "sagemaker" or not parts[5].startswith("mlflow-tracking-server/"):
        raise MlflowError(f"{arn!r} is not a tracking server ARN")
    if parts[1] not in ("aws", "aws-us-gov"):
        raise MlflowError(f"partition {parts[1]} has no known MLflow endpoint")
    return f"https://{parts[3]}.experiments.sagemaker.aws"


@dataclass
class Client:
    """Signed calls to one tracking server, within one time budget."""

    arn: str
    endpoint: str
    credentials: Any
    """botocore credentials (access key, secret, token): the function role's."""
    deadline: float
    """time.monotonic() after which no call starts."""

    @classmethod
    def for_server(cls, arn: str, endpoint_override: str | None = None) -> Client:
        # botocore is imported where it signs, not at the top: every plan imports this module for ACTIONS.
        from botocore.session import get_session

        credentials = get_session().get_credentials()
        if credentials is None:
            raise MlflowError("no AWS credentials to sign with")
        return cls(
            arn=arn,
            endpoint=endpoint_override or endpoint(arn),
            credentials=credentials.get_frozen_credentials(),
            deadline=time.monotonic() + BUDGET_SECONDS,
        )

    @property
    def region(self) -> str:
        return self.arn.split(":")[3]

    def call(self, operation: str, body: dict[str, Any], *, missing_ok: bool = False) -> dict[str, Any] | None:
        """One MLflow operation; None when `missing_ok` and the server answers RESOURCE_DOES_NOT_EXIST (404)."""
        method, path = OPERATIONS[operation]
        url = self.endpoint.rstrip("/") + API_PREFIX + path
        data: bytes | None = None
        if method == "GET":
            url += "?" + urlencode(body, quote_via=quote)  # spaces as %20, as SigV4 wants them
        else:
            data = json.dumps(body).encode()
        failure = ""
        for attempt in range(ATTEMPTS):
            if attempt:
                time.sleep(RETRY_DELAYS[attempt - 1])
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise MlflowError(f"{operation}: time budget of {BUDGET_SECONDS:g} s spent ({failure or 'no answer'})")
            # An https endpoint derived from the ARN (or the tests' local server): never a file: URL.
            request = Request(url, data=data, headers=self._signed_headers(method, url, data), method=method)  # noqa: S310
            try:
                with urlopen(request, timeout=min(REQUEST_TIMEOUT_SECONDS, remaining)) as response:  # noqa: S310
                    answer: dict[str, Any] = json.loads(response.read() or b"{}")
                    return answer
            except HTTPError as error:
                code = _error_code(error)
                if missing_ok and error.code == 404 and code == "RESOURCE_DOES_NOT_EXIST":
                    return None
                failure = f"HTTP {error.code} {code}".rstrip()
                if error.code != 429 and error.code < 500:
                    break
            except (URLError, TimeoutError) as error:
                failure = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
        raise MlflowError(f"{operation}: {failure}")

    def _signed_headers(self, method: str, url: str, data: bytes | None) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        request = AWSRequest(
            method=method,
            url=url,
            data=data,
            headers={
                "Content-Type": "application/json",
                ARN_HEADER: self.arn,
                "X-Amz-Content-SHA256": hashlib.sha256(data or b"").hexdigest(),
            },
        )
        SigV4Auth(self.credentials, SIGNING_SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())


def _error_code(error: HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("error_code", ""))
    except (ValueError, AttributeError, OSError):
        return ""


def log_run(
    client: Client,
    *,
    experiment: str,
    run_name: str,
    run_tags: dict[str, str],
    timestamp_ms: int,
    metrics: dict[str, float],
    tags: dict[str, str],
) -> str:
    """Find or create the experiment and its run named `run_name` (created with `run_tags`), log `metrics` at
    `timestamp_ms` and set `tags`, then mark the run FINISHED. Returns the run's id."""
    found = client.call("GetExperimentByName", {"experiment_name": experiment}, missing_ok=True)
    if found is not None:
        experiment_id = str(found["experiment"]["experiment_id"])
    else:
        created = client.call("CreateExperiment", {"name": experiment})
        experiment_id = str(created["experiment_id"]) if created else ""
    # Run names are not unique in MLflow: the oldest run of that name is the version's run.
    search = {
        "experiment_ids": [experiment_id],
        "filter": f"tags.mlflow.runName = '{run_name}'",
        "max_results": 1,
        "order_by": ["attributes.start_time ASC"],
    }
    runs = (client.call("SearchRuns", search) or {}).get("runs", [])
    if runs:
        run_id = str(runs[0]["info"]["run_id"])
    else:
        body = {
            "experiment_id": experiment_id,
            "run_name": run_name,
            "start_time": timestamp_ms,
            "tags": [{"key": k, "value": v} for k, v in sorted(run_tags.items())],
        }
        run_id = str((client.call("CreateRun", body) or {})["run"]["info"]["run_id"])
    entries = [{"key": k, "value": v, "timestamp": timestamp_ms, "step": 0} for k, v in sorted(metrics.items())]
    tag_entries = [{"key": k, "value": v} for k, v in sorted(tags.items())]
    first = True
    while first or entries or tag_entries:
        batch_tags, tag_entries = tag_entries[:BATCH_TAGS], tag_entries[BATCH_TAGS:]
        size = BATCH_ENTITIES - len(batch_tags)
        batch, entries = entries[:size], entries[size:]
        client.call("LogBatch", {"run_id": run_id, "metrics": batch, "tags": batch_tags})
        first = False
    client.call("UpdateRun", {"run_id": run_id, "status": "FINISHED", "end_time": int(time.time() * 1000)})
    return run_id
