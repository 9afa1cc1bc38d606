"""Kubernetes serving: team namespaces (quota, limits, network policy, IRSA) and KServe InferenceServices."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pulumi
import pytest

from components.config import LoadedEnvironment
from components.config.serving import AllAtOnce, Canary, Linear, Rolling
from components.kserve import canary_traffic_percent
from mlp.mocks import PlanMocks
from mlp.plan import Plan, build_plan
from tests.components.kserve_schema import validator as kserve_validator
from tests.conftest import ENVIRONMENTS, fixture_env, one_of, resources_of
from tests.mlp.test_plan_errors import plan_errors

ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService"
NAMESPACE = "kubernetes:core/v1:Namespace"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
K8S_PROVIDER = "pulumi:providers:kubernetes"


def k8s_objects(plan: Plan) -> list[dict[str, Any]]:
    """The Kubernetes objects of a plan (the provider itself excluded)."""
    return [r for r in plan["resources"] if r["type"].startswith("kubernetes:")]


def manifest(resource: dict[str, Any]) -> dict[str, Any]:
    """The object as the provider sends it to the API server: its inputs."""
    return copy.deepcopy(resource["inputs"])


def by_name(plan: Plan, type_: str, object_name: str) -> dict[str, Any]:
    """The one object of a type with a given metadata.name."""
    [found] = [r for r in resources_of(plan, type_) if r["inputs"]["metadata"]["name"] == object_name]
    return found


def kubernetes_models(env: LoadedEnvironment) -> list[Any]:
    return [m for m in env.models if m.serving.platform == "kubernetes"]


# --- rendered objects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_each_environment_renders_its_team_namespaces_and_inference_services(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    plan = plans[env]
    teams_with_namespace = sorted(t.name for t in spec.teams if t.namespace is not None)
    assert teams_with_namespace == ["risk"], "the example: only the risk squad serves on the cluster"
    per_namespace = {
        (NAMESPACE, None),
        (QUOTA, "ml-risk"),
        (LIMIT_RANGE, "ml-risk"),
        (NETWORK_POLICY, "ml-risk"),
        (SERVICE_ACCOUNT, "ml-risk"),
        (ISVC, "ml-risk"),
    }
    rendered = {(r["type"], r["inputs"]["metadata"].get("namespace")) for r in k8s_objects(plan)}
    assert rendered == per_namespace
    assert [r["inputs"]["metadata"]["name"] for r in resources_of(plan, NAMESPACE)] == ["ml-risk"]
    assert sorted(r["inputs"]["metadata"]["name"] for r in resources_of(plan, NETWORK_POLICY)) == [
        "allow-dns-and-aws-apis",
        "allow-serving-ingress",
        "default-deny",
    ]
    assert [r["inputs"]["metadata"]["name"] for r in resources_of(plan, ISVC)] == [
        m.name for m in kubernetes_models(spec)
    ]
    # Every object sits under a platform component, the namespace's objects under its TeamNamespace.
    components = {r["urn"]: r["type"] for r in plan["resources"] if not r["custom"]}
    for r in k8s_objects(plan):
        expected = "mlplatform:kserve:KServeModel" if r["type"] == ISVC else "mlplatform:kubernetes:TeamNamespace"
        assert components[r["parent"]] == expected


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_provider_targets_the_environment_cluster(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    assert spec.kubernetes is not None
    provider = one_of(plans[env], K8S_PROVIDER)
    assert provider["name"] == f"kubernetes-{env}"
    assert provider["inputs"]["context"] == (
        f"arn:aws:eks:{spec.region}:{spec.account_id}:cluster/{spec.kubernetes.cluster_name}"
    )
    assert "kubeconfig" not in provider["inputs"], "no kubeconfig in stack config: the ambient one is used"


def test_provider_reads_kubeconfig_and_context_from_stack_config(env_root: Path) -> None:
    config = env_root / "stacks" / "Pulumi.staging.yaml"
    config.write_text(
        config.read_text()
        + "  ml-platform:kubeconfig:\n    secure: v1:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBBBBBBBB\n"
        + "  ml-platform:kubeContext: ci-staging\n"
    )
    provider = one_of(build_plan("staging", env_root), K8S_PROVIDER)
    assert provider["inputs"]["kubeconfig"] == "[secret]"  # a secret, never decrypted offline
    assert provider["inputs"]["context"] == "ci-staging"


def test_environment_without_cluster_gets_no_kubernetes_provider_or_objects(
    edit_env: Callable[..., Path],
) -> None:
    def sagemaker_only(data: Any) -> None:
        del data["kubernetes"]
        for team in data["teams"]:
            team.pop("namespace", None)
        data["models"] = [m for m in data["models"] if m["serving"].get("platform") != "kubernetes"]

    plan = build_plan("dev", edit_env("dev", sagemaker_only))
    assert [r for r in plan["resources"] if "kubernetes" in r["type"]] == []
    assert one_of(plan, "pulumi:providers:aws")


def test_mocks_refuse_kubernetes_objects_on_a_default_provider() -> None:
    args = pulumi.runtime.MockResourceArgs(
        typ="kubernetes:core/v1:Namespace",
        name="stray",
        inputs={},
        provider="urn:pulumi:dev::ml-platform::pulumi:providers:kubernetes::default_4_34_2::id",
    )
    with pytest.raises(ValueError, match="has no explicit Kubernetes provider"):
        PlanMocks().new_resource(args)


# --- schemas ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_manifests_validate_against_the_kubernetes_api_of_the_cluster_version(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    assert spec.kubernetes is not None
    core = [r for r in k8s_objects(plans[env]) if r["type"] != ISVC]
    assert len(core) == 7
    for r in core:
        # strict: unknown fields are errors, as a typo would otherwise be dropped by the API server.
        validated = kubernetes_validate.validate(manifest(r), spec.kubernetes.version, strict=True)
        assert validated == spec.kubernetes.version


def test_kubernetes_validation_catches_a_wrong_field(plans: dict[str, Plan]) -> None:
    quota = manifest(one_of(plans["prod"], QUOTA))
    quota["spec"]["hardLimits"] = quota["spec"].pop("hard")
    with pytest.raises(kubernetes_validate.ValidationError, match="hardLimits"):
        kubernetes_validate.validate(quota, "1.33", strict=True)
    policy = manifest(by_name(plans["prod"], NETWORK_POLICY, "default-deny"))
    policy["spec"]["policyTypes"] = "Ingress"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(policy, "1.33", strict=True)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_inference_service_matches_kserve_v1beta1_schema(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    assert spec.kubernetes is not None
    validator = kserve_validator(spec.kubernetes.version)
    for r in resources_of(plans[env], ISVC):
        errors = [e.message for e in validator.iter_errors(manifest(r))]
        assert errors == []
        assert r["inputs"]["apiVersion"] == "serving.kserve.io/v1beta1"
        assert r["inputs"]["kind"] == "InferenceService"


@pytest.mark.parametrize(
    ("break_it", "complaint"),
    [
        (lambda p: p.__setitem__("canaryPercent", p.pop("canaryTrafficPercent")), "'canaryPercent' was unexpected"),
        (lambda p: p["model"].pop("modelFormat"), "'modelFormat' is a required property"),
        (lambda p: p.__setitem__("minReplicas", "one"), "'one' is not of type 'integer'"),
        (lambda p: p["model"]["resources"]["limits"].__setitem__("cpu", {"cores": 1}), "is not valid under any"),
    ],
)
def test_kserve_schema_rejects_broken_inference_services(
    plans: dict[str, Plan], break_it: Callable[[dict[str, Any]], Any], complaint: str
) -> None:
    isvc = manifest(one_of(plans["prod"], ISVC))
    break_it(isvc["spec"]["predictor"])
    with pytest.raises(jsonschema.ValidationError) as caught:
        kserve_validator("1.33").validate(isvc)
    assert complaint in caught.value.message


# --- what was declared --------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_quota_and_limit_range_are_sized_from_the_environment_file(plans: dict[str, Plan], env: str) -> None:
    [risk] = [t for t in fixture_env(env).teams if t.name == "risk"]
    sizing = risk.namespace
    assert sizing is not None
    quota = one_of(plans[env], QUOTA)["inputs"]
    assert quota["spec"]["hard"] == {
        "requests.cpu": sizing.requests.cpu,
        "requests.memory": sizing.requests.memory,
        "limits.cpu": sizing.limits.cpu,
        "limits.memory": sizing.limits.memory,
        "pods": str(sizing.pods),
    }
    [limits] = one_of(plans[env], LIMIT_RANGE)["inputs"]["spec"]["limits"]
    assert limits == {
        "type": "Container",
        "defaultRequest": {"cpu": sizing.default_request.cpu, "memory": sizing.default_request.memory},
        "default": {"cpu": sizing.default_limit.cpu, "memory": sizing.default_limit.memory},
    }


def test_prod_namespace_is_larger_than_staging_which_is_larger_than_dev(plans: dict[str, Plan]) -> None:
    hard = [one_of(plans[env], QUOTA)["inputs"]["spec"]["hard"] for env in ("dev", "staging", "prod")]
    assert [int(h["pods"]) for h in hard] == sorted(int(h["pods"]) for h in hard)
    assert len({h["limits.cpu"] for h in hard}) == 3


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_objects_carry_the_cost_allocation_labels(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    [risk] = [t for t in spec.teams if t.name == "risk"]
    expected = {"team": "risk", "department": risk.cost_center, "env": env}
    for r in k8s_objects(plans[env]):
        labels = r["inputs"]["metadata"]["labels"]
        assert {k: labels[k] for k in expected} == expected, r["name"]
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"
    for r in resources_of(plans[env], ISVC):
        # Pod labels, which OpenCost and Kubecost aggregate by, carry the model too.
        pod_labels = r["inputs"]["spec"]["predictor"]["labels"]
        assert pod_labels == {**r["inputs"]["metadata"]["labels"]}
        assert pod_labels["app"] == r["inputs"]["metadata"]["name"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_network_policy_denies_all_but_the_serving_path(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    assert spec.kubernetes is not None
    deny = by_name(plans[env], NETWORK_POLICY, "default-deny")["inputs"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    serving = by_name(plans[env], NETWORK_POLICY, "allow-serving-ingress")["inputs"]["spec"]
    [rule] = serving["ingress"]
    [from_namespaces, same_namespace] = rule["from"]
    assert from_namespaces["namespaceSelector"]["matchExpressions"] == [
        {
            "key": "kubernetes.io/metadata.name",
            "operator": "In",
            "values": list(spec.kubernetes.serving_ingress_namespaces),
        }
    ]
    assert same_namespace == {"podSelector": {}}
    assert "ports" not in rule
    egress = by_name(plans[env], NETWORK_POLICY, "allow-dns-and-aws-apis")["inputs"]["spec"]
    assert egress["policyTypes"] == ["Egress"]
    ports = sorted((p["protocol"], int(p["port"])) for e in egress["egress"] for p in e.get("ports", []))
    assert ports == [("TCP", 53), ("TCP", 443), ("UDP", 53)]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_service_account_assumes_a_role_that_reads_only_the_team_artifacts(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    assert spec.kubernetes is not None
    plan = plans[env]
    role = one_of(plan, "aws:iam/role:Role", f"{env}-risk-namespace-model-reader")
    sa = one_of(plan, SERVICE_ACCOUNT)["inputs"]
    role_name = role["inputs"]["name"]
    assert sa["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": f"arn:aws:iam::{spec.account_id}:role/{role_name}"
    }

    [trust] = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    issuer = spec.kubernetes.oidc_issuer
    assert trust["Principal"] == {"Federated": f"arn:aws:iam::{spec.account_id}:oidc-provider/{issuer}"}
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert trust["Condition"] == {
        "StringEquals": {
            f"{issuer}:sub": f"system:serviceaccount:ml-risk:{sa['metadata']['name']}",
            f"{issuer}:aud": "sts.amazonaws.com",
        }
    }
    assert role["inputs"]["tags"]["team"] == "risk"
    assert role["inputs"]["tags"]["cost-center"] == "CC-4200"

    bucket = one_of(plan, "aws:s3/bucket:Bucket", f"{env}-foundation-artifacts")["inputs"]["bucket"]
    key_arn = one_of(
        plan,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        f"{env}-foundation-artifacts-encryption",
    )["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    policy = json.loads(
        one_of(plan, "aws:iam/rolePolicy:RolePolicy", f"{env}-risk-namespace-model-reader-policy")["inputs"]["policy"]
    )
    grants = {(s["Action"], s["Resource"]): s.get("Condition") for s in policy["Statement"]}
    assert grants == {
        ("s3:GetObject", f"arn:aws:s3:::{bucket}/risk/*"): None,
        ("s3:ListBucket", f"arn:aws:s3:::{bucket}"): {"StringLike": {"s3:prefix": ["risk/", "risk/*"]}},
        ("kms:Decrypt", key_arn): {"StringEquals": {"kms:ViaService": f"s3.{spec.region}.amazonaws.com"}},
    }
    assert all(s["Effect"] == "Allow" and "*" not in s["Action"] for s in policy["Statement"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_inference_service_serves_the_pinned_version_as_declared(plans: dict[str, Plan], env: str) -> None:
    spec = fixture_env(env)
    bucket = one_of(plans[env], "aws:s3/bucket:Bucket", f"{env}-foundation-artifacts")["inputs"]["bucket"]
    for model in kubernetes_models(spec):
        kserve = model.serving.kserve
        assert kserve is not None
        isvc_resource = by_name(plans[env], ISVC, model.name)
        # Created after the namespace and the service account it names (their outputs are its inputs).
        for needed in (one_of(plans[env], NAMESPACE), one_of(plans[env], SERVICE_ACCOUNT)):
            assert needed["urn"] in isvc_resource["dependencies"]
        isvc = isvc_resource["inputs"]
        assert isvc["metadata"]["namespace"] == "ml-risk"
        assert isvc["metadata"]["annotations"] == {"serving.kserve.io/deploymentMode": "Serverless"}
        predictor = isvc["spec"]["predictor"]
        assert predictor["serviceAccountName"] == one_of(plans[env], SERVICE_ACCOUNT)["inputs"]["metadata"]["name"]
        assert (predictor["minReplicas"], predictor["maxReplicas"]) == (kserve.min_replicas, kserve.max_replicas)
        assert predictor["model"]["modelFormat"] == {"name": kserve.model_format}
        assert predictor["model"]["storageUri"] == f"s3://{bucket}/{model.team}/{model.name}/v{model.version}/"
        assert predictor["model"]["resources"] == {
            "requests": {"cpu": kserve.requests.cpu, "memory": kserve.requests.memory},
            "limits": {"cpu": kserve.limits.cpu, "memory": kserve.limits.memory},
        }


# --- rollout ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_canary_percentage_follows_the_rollout_settings(plans: dict[str, Plan], env: str) -> None:
    for model in kubernetes_models(fixture_env(env)):
        predictor = by_name(plans[env], ISVC, model.name)["inputs"]["spec"]["predictor"]
        rollout = model.serving.rollout
        if isinstance(rollout, Canary):
            assert predictor["canaryTrafficPercent"] == rollout.percent
        else:
            assert isinstance(rollout, AllAtOnce)
            assert "canaryTrafficPercent" not in predictor


def test_example_environments_use_canaries_where_it_matters(plans: dict[str, Plan]) -> None:
    percents = {
        env: one_of(plans[env], ISVC)["inputs"]["spec"]["predictor"].get("canaryTrafficPercent") for env in ENVIRONMENTS
    }
    assert percents == {"dev": None, "staging": 25, "prod": 10}


def test_linear_rollout_starts_with_its_first_step(edit_env: Callable[..., Path]) -> None:
    def linear(data: Any) -> None:
        model = next(m for m in data["models"] if m["name"] == "merchant-risk")
        model["serving"]["rollout"] = {"strategy": "linear", "step_percent": 20, "interval_minutes": 10}

    plan = build_plan("staging", edit_env("staging", linear))
    assert one_of(plan, ISVC)["inputs"]["spec"]["predictor"]["canaryTrafficPercent"] == 20


def test_canary_traffic_percent_of_each_strategy() -> None:
    assert canary_traffic_percent(AllAtOnce(strategy="all-at-once")) is None
    assert canary_traffic_percent(Canary(strategy="canary", percent=7, bake_minutes=5)) == 7
    assert canary_traffic_percent(Linear(strategy="linear", step_percent=15, interval_minutes=5)) == 15
    with pytest.raises(ValueError, match="no KServe equivalent"):
        canary_traffic_percent(Rolling(strategy="rolling", batch_percent=25, wait_minutes=5))


# --- bad input: exit 2, file, line, field -------------------------------------------------------------


def _merchant_risk(data: Any) -> Any:
    return next(m for m in data["models"] if m["name"] == "merchant-risk")


def _line_of(root: Path, env: str, text: str, after: str | None = None) -> int:
    lines = (root / "environments" / f"{env}.yaml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i + 1 for i, line in enumerate(lines) if i >= start and text in line)


def test_rolling_rollout_on_kubernetes_is_refused(
    edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def rolling(data: Any) -> None:
        _merchant_risk(data)["serving"]["rollout"] = {"strategy": "rolling", "batch_percent": 25, "wait_minutes": 5}

    root = edit_env("prod", rolling)
    [error] = plan_errors(root, "prod", capsys)
    line = _line_of(root, "prod", "strategy: rolling")
    assert error.startswith(f"error: environments/prod.yaml:{line}: models[2].serving.rollout.strategy: ")
    assert "has no KServe equivalent: use canary (canaryTrafficPercent = percent), linear or all-at-once" in error


def test_kubernetes_model_and_namespace_without_a_cluster(
    edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def no_cluster(data: Any) -> None:
        del data["kubernetes"]

    root = edit_env("staging", no_cluster)
    errors = plan_errors(root, "staging", capsys)
    assert errors == [
        f"error: environments/staging.yaml:{_line_of(root, 'staging', 'namespace:')}: teams[1].namespace: the "
        "environment declares no kubernetes cluster: add a `kubernetes:` section or remove the namespace",
        f"error: environments/staging.yaml:{_line_of(root, 'staging', 'platform: kubernetes')}: "
        "models[2].serving.platform: the model is served on kubernetes but the environment declares no kubernetes "
        "cluster: add a `kubernetes:` section or serve it on sagemaker",
    ]


def test_kubernetes_model_needs_kserve_settings_and_a_team_namespace(
    edit_env: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    def incomplete(data: Any) -> None:
        del _merchant_risk(data)["serving"]["kserve"]
        del data["teams"][1]["namespace"]

    root = edit_env("dev", incomplete)
    errors = plan_errors(root, "dev", capsys)
    assert [e.split(": ")[2] for e in errors] == ["models[2].serving", "models[2].team"]
    assert "needs a `kserve:` section (at least `model_format`)" in errors[0]
    assert "team 'risk' has no namespace on the cluster: add `namespace:` sizing to the team" in errors[1]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda d: _merchant_risk(d)["serving"]["kserve"].update(min_replicas=4, max_replicas=2),
            "models[2].serving.kserve",
            "min_replicas 4 is above max_replicas 2: raise max_replicas or lower min_replicas",
        ),
        (
            lambda d: _merchant_risk(d)["serving"]["kserve"].update(requests={"cpu": "4", "memory": "1Gi"}),
            "models[2].serving.kserve",
            "requests.cpu 4 is above limits.cpu 2: raise limits.cpu or lower requests.cpu",
        ),
        (
            lambda d: _merchant_risk(d)["serving"]["kserve"].update(min_replica=2),
            "models[2].serving.kserve.min_replica",
            "unknown field 'min_replica'; allowed here: limits, max_replicas, min_replicas, model_format, requests, "
            "runtime",
        ),
        (
            lambda d: d["teams"][1]["namespace"].update(pod=3),
            "teams[1].namespace.pod",
            "unknown field 'pod'; allowed here: default_limit, default_request, limits, pods, requests",
        ),
        (
            lambda d: _merchant_risk(d)["serving"]["kserve"].update(model_format="sklearn-ish"),
            "models[2].serving.kserve.model_format",
            "'sklearn-ish' is not allowed; 'sklearn', 'xgboost',",
        ),
        (
            lambda d: d["teams"][1]["namespace"]["limits"].update(memory="lots"),
            "teams[1].namespace.limits.memory",
            "'lots' does not fit: a Kubernetes quantity is a number with an optional unit",
        ),
        (
            lambda d: d["teams"][1]["namespace"].update(requests={"cpu": "64", "memory": "24Gi"}),
            "teams[1].namespace",
            "requests.cpu 64 is above limits.cpu 24: raise limits.cpu or lower requests.cpu",
        ),
        (
            lambda d: _merchant_risk(d)["serving"]["kserve"].update(max_replicas=20),
            "models[2].serving.kserve.max_replicas",
            "max_replicas 20 x limits.cpu 2 exceeds team 'risk' namespace limits.cpu 24: lower max_replicas or "
            "raise the team's namespace limits",
        ),
        (
            lambda d: d["kubernetes"].update(
                oidc_issuer=d["kubernetes"]["oidc_issuer"].replace("eu-west-1", "us-east-1")
            ),
            "kubernetes.oidc_issuer",
            "is not in the environment's region eu-west-1: use the issuer of the cluster in this environment",
        ),
        (
            lambda d: d["models"][0]["serving"].update(kserve={"model_format": "onnx"}),
            "models[0].serving.kserve",
            "kserve settings apply only to `platform: kubernetes`; remove them or change the platform",
        ),
    ],
)
def test_bad_kubernetes_settings_are_reported_with_line_and_field(
    edit_env: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    change: Callable[[Any], None],
    field: str,
    message: str,
) -> None:
    root = edit_env("prod", change)
    errors = plan_errors(root, "prod", capsys)
    [error] = [e for e in errors if f": {field}: " in e and message in e]
    assert error.startswith("error: environments/prod.yaml:")
    assert int(error.split(":")[2]) > 0, "the line is reported"
