"""Cross-account MLflow: the registry environment shares its tracking server with the serving accounts
through RAM, and a serving environment derives the shared server's ARN offline and logs with exactly the
documented sagemaker-mlflow actions on it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from components.composition import registry_tracking_server_arn, uploads_artifacts
from components.loader import load_environment
from components.mlflow import LOGGING_ACTIONS, logging_statement
from mlp.plan import Plan, build_plan
from tests.conftest import EditFn, one_of, resources_of

SHARE = "aws:ram/resourceShare:ResourceShare"
SHARE_SERVER = "aws:ram/resourceAssociation:ResourceAssociation"
SHARE_ACCOUNT = "aws:ram/principalAssociation:PrincipalAssociation"
TRACKING = "aws:sagemaker/mlflowTrackingServer:MlflowTrackingServer"
GROUP_POLICY = "aws:sagemaker/modelPackageGroupPolicy:ModelPackageGroupPolicy"

REGISTRY_ACCOUNT = "111111111111"
STAGING_ACCOUNT = "222222222222"
PROD_ACCOUNT = "333333333333"

# The sagemaker-mlflow actions of the Service Authorization Reference, "Actions, resources, and condition keys
# for Amazon SageMaker with MLflow" (https://docs.aws.amazon.com/service-authorization/latest/reference/
# list_sagemaker-mlflow.html, read 2026-11-30): the run, experiment and model-registry actions, each on the
# mlflow-tracking-server resource type (AccessUI on none).
REFERENCE_ACTIONS = frozenset(
    "sagemaker-mlflow:" + a
    for a in [
        "AccessUI",
        "CreateExperiment",
        "CreateModelVersion",
        "CreateRegisteredModel",
        "CreateRun",
        "DeleteExperiment",
        "DeleteModelVersion",
        "DeleteModelVersionTag",
        "DeleteRegisteredModel",
        "DeleteRegisteredModelAlias",
        "DeleteRegisteredModelTag",
        "DeleteRun",
        "DeleteTag",
        "GetDownloadURIForModelVersionArtifacts",
        "GetExperiment",
        "GetExperimentByName",
        "GetLatestModelVersions",
        "GetMetricHistory",
        "GetModelVersion",
        "GetModelVersionByAlias",
        "GetRegisteredModel",
        "GetRun",
        "ListArtifacts",
        "LogBatch",
        "LogInputs",
        "LogMetric",
        "LogModel",
        "LogParam",
        "RenameRegisteredModel",
        "RestoreExperiment",
        "RestoreRun",
        "SearchExperiments",
        "SearchModelVersions",
        "SearchRegisteredModels",
        "SearchRuns",
        "SetExperimentTag",
        "SetRegisteredModelAlias",
        "SetRegisteredModelTag",
        "SetTag",
        "TransitionModelVersionStage",
        "UpdateExperiment",
        "UpdateModelVersion",
        "UpdateRegisteredModel",
        "UpdateRun",
    ]
)

# MLflow's tracking store methods and the REST operation (= the sagemaker-mlflow action) each one calls;
# None for what stays in the client.
STORE_CALLS: dict[str, str | None] = {
    "get_experiment_by_name": "GetExperimentByName",
    "get_experiment": "GetExperiment",
    "create_experiment": "CreateExperiment",
    "search_runs": "SearchRuns",
    "create_run": "CreateRun",
    "get_run": "GetRun",
    "update_run_info": "UpdateRun",
    "log_batch": "LogBatch",
    "log_metric": "LogMetric",
    "log_param": "LogParam",
    "set_tag": "SetTag",
    "shut_down_async_logging": None,
}


def three_accounts(edit_env: Callable[[str, EditFn], Path], **tracking: Any) -> Path:
    """dev hosts the registries in its account; staging and prod serve from it, each in its own account."""

    def registry(data: dict[str, Any]) -> None:
        data["account_id"] = REGISTRY_ACCOUNT
        if tracking:
            data["experiment_tracking"] = tracking

    edit_env("dev", registry)
    edit_env("staging", lambda d: d.__setitem__("account_id", STAGING_ACCOUNT))
    return edit_env("prod", lambda d: d.__setitem__("account_id", PROD_ACCOUNT))


def group_policy_accounts(plan: Plan) -> set[str]:
    """Accounts the model package group policies admit (components/registry.py)."""
    accounts: set[str] = set()
    for resource in resources_of(plan, GROUP_POLICY):
        for statement in json.loads(resource["inputs"]["resourcePolicy"])["Statement"]:
            accounts |= {p.split(":")[4] for p in statement["Principal"]["AWS"]}
    return accounts


def test_the_registry_environment_shares_its_server_with_each_serving_account(
    edit_env: Callable[[str, EditFn], Path],
) -> None:
    dev = build_plan("dev", three_accounts(edit_env))
    share = one_of(dev, SHARE)
    # Inside one organization: no external principals, and the share can reach no account outside it.
    assert share["inputs"]["allowExternalPrincipals"] is False
    assert share["inputs"]["tags"]["environment"] == "dev"
    assert share["inputs"]["tags"]["managed-by"] == "pulumi/ml-platform"
    server = one_of(dev, TRACKING)
    association = one_of(dev, SHARE_SERVER)["inputs"]
    assert association["resourceArn"] == (
        f"arn:aws:sagemaker:eu-west-1:{REGISTRY_ACCOUNT}:mlflow-tracking-server/"
        f"{server['inputs']['trackingServerName']}"
    )
    share_arn = association["resourceShareArn"]
    assert share_arn.startswith(f"arn:aws:ram:eu-west-1:{REGISTRY_ACCOUNT}:resource-share/")
    principals = resources_of(dev, SHARE_ACCOUNT)
    assert sorted(p["inputs"]["principal"] for p in principals) == [STAGING_ACCOUNT, PROD_ACCOUNT]
    assert {p["inputs"]["resourceShareArn"] for p in principals} == {share_arn}
    # The same accounts the model package groups admit, computed once (the loader's registry consumers).
    assert group_policy_accounts(dev) == {STAGING_ACCOUNT, PROD_ACCOUNT}
    # The serving environments share nothing of their own.
    for serving in ("staging", "prod"):
        plan = build_plan(serving, three_accounts(edit_env))
        assert resources_of(plan, SHARE) == resources_of(plan, SHARE_ACCOUNT) == []


def test_accounts_outside_the_organization_need_external_principals_and_the_own_account_no_share(
    edit_env: Callable[[str, EditFn], Path],
) -> None:
    three_accounts(edit_env, share_outside_organization=True)
    root = edit_env("staging", lambda d: d.__setitem__("account_id", REGISTRY_ACCOUNT))
    dev = build_plan("dev", root)
    assert one_of(dev, SHARE)["inputs"]["allowExternalPrincipals"] is True
    # staging shares dev's account: it reaches the server without a share; only prod's account is named.
    assert [p["inputs"]["principal"] for p in resources_of(dev, SHARE_ACCOUNT)] == [PROD_ACCOUNT]
    # ...and its jobs may upload artifacts to the store, which is in their own account.
    assert uploads_artifacts(load_environment("staging", root)) is True


def test_without_a_tracking_server_nothing_is_shared_and_nothing_is_derived(
    edit_env: Callable[[str, EditFn], Path],
) -> None:
    root = three_accounts(edit_env, enabled=False)
    dev = build_plan("dev", root)
    assert resources_of(dev, TRACKING) == resources_of(dev, SHARE) == resources_of(dev, SHARE_SERVER) == []
    assert registry_tracking_server_arn(load_environment("prod", root)) is None


def test_a_serving_environment_derives_the_shared_servers_arn_offline_and_logs_with_exactly_it(
    edit_env: Callable[[str, EditFn], Path],
) -> None:
    root = three_accounts(edit_env)
    shared = one_of(build_plan("dev", root), SHARE_SERVER)["inputs"]["resourceArn"]
    for serving in ("staging", "prod"):
        env = load_environment(serving, root)
        arn = registry_tracking_server_arn(env)
        assert arn is not None
        assert arn == shared  # from dev's file alone, equal to what dev's plan shares
        statement = logging_statement(arn)
        assert statement["Effect"] == "Allow"
        assert statement["Resource"] == [shared]
        assert statement["Action"] == list(LOGGING_ACTIONS)
        # Artifacts would go straight to dev's bucket, which admits no writes from this account.
        assert uploads_artifacts(env) is False
    # The registry environment logs to the same server, in its own account, artifacts included.
    dev = load_environment("dev", root)
    assert registry_tracking_server_arn(dev) == shared
    assert uploads_artifacts(dev) is True


def test_the_helper_refuses_what_is_not_a_tracking_server_arn() -> None:
    with pytest.raises(ValueError, match="is not a tracking server ARN: arn:aws:sagemaker:REGION:ACCOUNT"):
        logging_statement(f"arn:aws:sagemaker:eu-west-1:{REGISTRY_ACCOUNT}:model-package-group/fraud")


def test_every_logging_action_is_a_real_sagemaker_mlflow_action() -> None:
    assert set(LOGGING_ACTIONS) <= REFERENCE_ACTIONS, set(LOGGING_ACTIONS) - REFERENCE_ACTIONS
    assert len(set(LOGGING_ACTIONS)) == len(LOGGING_ACTIONS)


@pytest.fixture
def recorded_calls(tmp_path: Path) -> Iterator[list[str]]:
    """The tracking store methods MLflow's client calls, against a local store behind a `recording://` URI."""
    import mlflow
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    from mlflow.tracking._tracking_service import utils

    calls: list[str] = []
    inner = SqlAlchemyStore(  # type: ignore[no-untyped-call]
        f"sqlite:///{tmp_path / 'mlflow.db'}", (tmp_path / "artifacts").as_uri()
    )

    class Recording:
        def __getattr__(self, name: str) -> Any:
            attr = getattr(inner, name)
            if not callable(attr) or name.startswith("_"):
                return attr

            def call(*args: Any, **kwargs: Any) -> Any:
                calls.append(name)
                return attr(*args, **kwargs)

            return call

    utils._tracking_store_registry.register(  # type: ignore[no-untyped-call]
        "recording", lambda store_uri=None, artifact_uri=None: Recording()
    )
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri("recording://mlflow")
    try:
        yield calls
    finally:
        mlflow.set_tracking_uri(previous)


def test_the_logging_actions_are_exactly_what_a_run_logger_calls(recorded_calls: list[str]) -> None:
    """A training or monitoring run: find or create the experiment, find the version's run, create it or resume
    it, log metrics, parameters and tags both ways, end it."""
    import mlflow

    for _ in range(2):  # the first pass creates experiment and run, the second resumes the run
        mlflow.set_experiment("prod-fraud-scoring-monitoring")
        runs = mlflow.search_runs(filter_string="tags.mlflow.runName = 'v12'", output_format="list")
        with mlflow.start_run(run_id=runs[0].info.run_id if runs else None, run_name="v12"):
            mlflow.log_metrics({"drift_amount": 0.3})
            mlflow.log_params({"window_hours": "1"})
            mlflow.log_metric("rows", 120.0)
            mlflow.log_param("engine", "evidently")
            mlflow.set_tag("report", "s3://bucket/monitoring/fraud-scoring/v12/")
    unknown = set(recorded_calls) - set(STORE_CALLS)
    assert not unknown, f"MLflow's client called store methods this test cannot map to an action: {unknown}"
    used = {f"sagemaker-mlflow:{STORE_CALLS[c]}" for c in recorded_calls if STORE_CALLS[c]}
    assert used == set(LOGGING_ACTIONS)


def test_what_the_plan_sends_fits_botocores_ram_and_sagemaker_shapes(edit_env: Callable[[str, EditFn], Path]) -> None:
    """CreateResourceShare / AssociateResourceShare (ram) and CreateMlflowTrackingServer (sagemaker), as the
    service models in the installed botocore define them."""
    import botocore.session

    session = botocore.session.get_session()
    ram = session.get_service_model("ram")
    dev = build_plan("dev", three_accounts(edit_env, weekly_maintenance_window_start="Tue:03:30"))

    create = ram.operation_model("CreateResourceShare").input_shape
    share = one_of(dev, SHARE)["inputs"]
    assert set(create.required_members) <= {"name"} and isinstance(share["name"], str) and share["name"]
    assert create.members["allowExternalPrincipals"].type_name == "boolean"
    assert set(create.members["tags"].member.members) == {"key", "value"}  # the provider maps the tags map
    associate = ram.operation_model("AssociateResourceShare").input_shape
    assert associate.required_members == ["resourceShareArn"]
    assert associate.members["principals"].type_name == associate.members["resourceArns"].type_name == "list"
    for principal in resources_of(dev, SHARE_ACCOUNT):  # "An Amazon Web Services account ID" form
        assert re.fullmatch(r"\d{12}", principal["inputs"]["principal"])

    sagemaker = session.get_service_model("sagemaker")
    server_shape = sagemaker.operation_model("CreateMlflowTrackingServer").input_shape.members
    server = one_of(dev, TRACKING)["inputs"]
    sent = {
        "TrackingServerName": server["trackingServerName"],
        "ArtifactStoreUri": server["artifactStoreUri"],
        "WeeklyMaintenanceWindowStart": server["weeklyMaintenanceWindowStart"],
    }
    for member, value in sent.items():
        rules = server_shape[member].metadata
        assert re.fullmatch(rules["pattern"], value), (member, value, rules["pattern"])
        assert rules.get("min", 0) <= len(value) <= rules["max"]
    assert server["trackingServerSize"] in server_shape["TrackingServerSize"].enum
    arn = one_of(dev, SHARE_SERVER)["inputs"]["resourceArn"]
    assert re.fullmatch(sagemaker.shape_for("TrackingServerArn").metadata["pattern"], arn)


def test_an_upper_case_maintenance_day_is_refused_with_the_allowed_form(
    edit_env: Callable[[str, EditFn], Path],
) -> None:
    from components.errors import InputError

    root = three_accounts(edit_env, weekly_maintenance_window_start="SUN:03:00")
    with pytest.raises(InputError) as raised:
        load_environment("dev", root)
    text = str(raised.value)
    assert re.search(r"environments/dev\.yaml:\d+: experiment_tracking\.weekly_maintenance_window_start", text), text
    assert "Mon|Tue|Wed|Thu|Fri|Sat|Sun" in text and "'SUN:03:00'" in text
