"""The mock engine behind `mlp plan`: deterministic outputs for resources, and only known invokes.

Values that exist only after deployment (ids, ARNs, generated key ids) are derived from the resource's
type, name, account and region, so the same program gives the same plan byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

import pulumi

# The account and region of resources whose provider is not (yet) known.
UNKNOWN_ACCOUNT = "000000000000"
UNKNOWN_REGION = "us-east-1"

Outputs = dict[str, Any]
OutputRule = Callable[["PlanMocks", pulumi.runtime.MockResourceArgs, str, str], Outputs]


def _uid(*parts: str) -> str:
    return str(uuid.UUID(hashlib.sha256("/".join(parts).encode()).hexdigest()[:32]))


def _physical(args: pulumi.runtime.MockResourceArgs) -> str:
    return str(args.inputs.get("name") or args.name)


def _arn(service: str, region: str, account: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


# Outputs beyond `id` and `arn` that our components read, per resource type.
OUTPUT_RULES: dict[str, OutputRule] = {
    "aws:kms/key:Key": lambda m, a, region, account: {
        "keyId": (kid := _uid(account, region, a.name)),
        "arn": _arn("kms", region, account, f"key/{kid}"),
    },
    "aws:kms/alias:Alias": lambda m, a, region, account: {
        "arn": _arn("kms", region, account, str(a.inputs.get("name")))
    },
    "aws:s3/bucket:Bucket": lambda m, a, region, account: {
        "bucket": (b := str(a.inputs.get("bucket") or a.name)),
        "arn": f"arn:aws:s3:::{b}",
        "id": b,
    },
    "aws:iam/role:Role": lambda m, a, region, account: {
        "name": _physical(a),
        "arn": f"arn:aws:iam::{account}:role/{_physical(a)}",
    },
    # IAM OIDC providers are global: arn:aws:iam::ACCOUNT:oidc-provider/<url without https://>.
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": lambda m, a, region, account: {
        "arn": f"arn:aws:iam::{account}:oidc-provider/{str(a.inputs.get('url', a.name)).removeprefix('https://')}",
    },
    "aws:iam/policy:Policy": lambda m, a, region, account: {
        "arn": f"arn:aws:iam::{account}:policy/{_physical(a)}",
    },
    # SageMaker serving (components/serving.py): names are given, ARNs use SageMaker's resource types.
    "aws:sagemaker/model:Model": lambda m, a, region, account: {
        "name": _physical(a),
        "arn": _arn("sagemaker", region, account, f"model/{_physical(a)}"),
    },
    "aws:sagemaker/endpointConfiguration:EndpointConfiguration": lambda m, a, region, account: {
        "name": _physical(a),
        "arn": _arn("sagemaker", region, account, f"endpoint-config/{_physical(a)}"),
    },
    "aws:sagemaker/endpoint:Endpoint": lambda m, a, region, account: {
        "name": _physical(a),
        "arn": _arn("sagemaker", region, account, f"endpoint/{_physical(a)}"),
    },
    "aws:cloudwatch/metricAlarm:MetricAlarm": lambda m, a, region, account: {
        "name": _physical(a),
        "arn": _arn("cloudwatch", region, account, f"alarm:{_physical(a)}"),
    },
    "aws:sfn/stateMachine:StateMachine": lambda m, a, region, account: {
        "name": _physical(a),
        "arn": _arn("states", region, account, f"stateMachine:{_physical(a)}"),
    },
    # EventBridge ARNs: arn:aws:events:REGION:ACCOUNT:connection|api-destination/NAME/UUID and rule/NAME.
    "aws:cloudwatch/eventConnection:EventConnection": lambda m, a, region, account: {
        "arn": _arn("events", region, account, f"connection/{_physical(a)}/{_uid(account, region, a.name)}"),
    },
    "aws:cloudwatch/eventApiDestination:EventApiDestination": lambda m, a, region, account: {
        "arn": _arn("events", region, account, f"api-destination/{_physical(a)}/{_uid(account, region, a.name)}"),
    },
    "aws:cloudwatch/eventRule:EventRule": lambda m, a, region, account: {
        "arn": _arn("events", region, account, f"rule/{_physical(a)}"),
        "name": _physical(a),
    },
    "aws:sns/topic:Topic": lambda m, a, region, account: {
        "arn": _arn("sns", region, account, _physical(a)),
    },
    # Cost Explorer is global: its ARNs have no region, e.g. arn:aws:ce::123456789012:anomalymonitor/<uuid>.
    "aws:costexplorer/anomalyMonitor:AnomalyMonitor": lambda m, a, region, account: {
        "arn": f"arn:aws:ce::{account}:anomalymonitor/{_uid(account, a.name)}",
    },
    "aws:sagemaker/modelPackageGroup:ModelPackageGroup": lambda m, a, region, account: {
        "modelPackageGroupName": (g := str(a.inputs.get("modelPackageGroupName") or a.name)),
        "arn": _arn("sagemaker", region, account, f"model-package-group/{g}"),
    },
    # arn:aws:sagemaker:REGION:ACCOUNT:mlflow-tracking-server/NAME (botocore sagemaker TrackingServerArn).
    "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer": lambda m, a, region, account: {
        "arn": _arn("sagemaker", region, account, f"mlflow-tracking-server/{a.inputs.get('trackingServerName')}"),
    },
    # RAM shares are named by a generated id: arn:aws:ram:REGION:ACCOUNT:resource-share/UUID.
    "aws:ram/resourceShare:ResourceShare": lambda m, a, region, account: {
        "arn": _arn("ram", region, account, f"resource-share/{_uid(account, region, a.name)}"),
    },
    "aws:sagemaker/pipeline:Pipeline": lambda m, a, region, account: {
        "arn": _arn("sagemaker", region, account, f"pipeline/{a.inputs.get('pipelineName') or a.name}"),
    },
    # Bedrock guardrails (components/triage.py): ids are 12 lower-case alphanumerics (botocore bedrock
    # GuardrailId pattern), ARNs arn:aws:bedrock:REGION:ACCOUNT:guardrail/ID; a new guardrail is DRAFT and
    # its first numbered version is "1".
    "aws:bedrock/guardrail:Guardrail": lambda m, a, region, account: {
        "guardrailId": (gid := hashlib.sha256(f"{account}/{region}/{a.name}".encode()).hexdigest()[:12]),
        "guardrailArn": _arn("bedrock", region, account, f"guardrail/{gid}"),
        "version": "DRAFT",
        "id": f"{gid},DRAFT",
    },
    "aws:bedrock/guardrailVersion:GuardrailVersion": lambda m, a, region, account: {"version": "1"},
    "aws:lambda/function:Function": lambda m, a, region, account: {
        "arn": _arn("lambda", region, account, f"function:{_physical(a)}"),
    },
    "aws:scheduler/schedule:Schedule": lambda m, a, region, account: {
        "arn": _arn("scheduler", region, account, f"schedule/{a.inputs.get('groupName') or 'default'}/{_physical(a)}"),
    },
}


class PlanMocks(pulumi.runtime.Mocks):
    """Mocks that compute deterministic outputs and refuse invokes they do not know."""

    def __init__(self) -> None:
        self.providers: dict[str, tuple[str, str]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        if args.typ.startswith("pulumi:providers:"):
            # Provider inputs arrive JSON-encoded, as the engine passes them to the provider plugin.
            ids = args.inputs.get("allowedAccountIds") or [UNKNOWN_ACCOUNT]
            if isinstance(ids, str):
                ids = json.loads(ids)
            region = str(args.inputs.get("region") or UNKNOWN_REGION)
            self.providers[args.name] = (str(ids[0]), region)
            return f"{args.name}-id", dict(args.inputs)
        if args.typ.startswith("kubernetes:") and (not args.provider or "::default_" in args.provider):
            # Stack config disables default providers: a Kubernetes object must name the environment's
            # provider, or `pulumi preview` would fail where the plan passed.
            raise ValueError(
                f"{args.typ} {args.name!r} has no explicit Kubernetes provider (default providers are disabled)"
            )
        account, region = self._placement(args.provider)
        outputs: Outputs = dict(args.inputs)
        if args.typ.startswith("aws:"):
            service = args.typ.split(":")[1].split("/")[0]
            kind = args.typ.rsplit(":", 1)[1]
            kind = kind[0].lower() + kind[1:]
            outputs["arn"] = _arn(service, region, account, f"{kind}/{_physical(args)}")
        rule = OUTPUT_RULES.get(args.typ)
        if rule is not None:
            outputs.update(rule(self, args, region, account))
        resource_id = str(outputs.pop("id", None) or _physical(args))
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        account, region = self._placement(args.provider)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": account, "arn": f"arn:aws:iam::{account}:root", "userId": account, "id": account}, []
        if args.token in ("aws:index/getRegion:getRegion", "aws:index/region:getRegion"):
            return {"name": region, "region": region, "id": region}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}, []
        if args.token == "aws:secretsmanager/getSecretVersion:getSecretVersion":
            # Never a real secret offline: a placeholder that names the secret it stands for.
            secret_id = str(args.args.get("secretId"))
            return {
                "id": secret_id,
                "secretId": secret_id,
                "secretString": f"<value of {secret_id}>",
                "versionId": _uid(account, region, secret_id),
                "versionStage": "AWSCURRENT",
                "arn": _arn("secretsmanager", region, account, f"secret:{secret_id}"),
            }, []
        raise NotImplementedError(
            f"mlp plan has no mock for the invoke {args.token!r}: add one to mlp/mocks.py, or avoid the invoke"
        )

    def _placement(self, provider_ref: str | None) -> tuple[str, str]:
        """Account and region of the explicit provider a resource uses ("urn::id" reference)."""
        if provider_ref:
            name = provider_ref.split("::")[-2] if "::" in provider_ref else provider_ref
            for known, placement in self.providers.items():
                if name == known or name.endswith(known):
                    return placement
        return UNKNOWN_ACCOUNT, UNKNOWN_REGION
