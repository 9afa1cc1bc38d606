"""Two platform components composed by hand, with no environment file: a team's alert topics (`TeamAlerts`)
and a model's SageMaker endpoint (`ModelEndpoint`) whose rollback alarms notify the team's `page` topic.

Each component takes only its own typed args; `components/composition.py` is where the platform maps an
environment file to the same args. Here a platform engineer writes them directly and wires one component's
output (a topic ARN) into the other's input. Offline, tests/test_compose_example.py plans this program with the
mock runtime; with credentials, `pulumi up` from this directory deploys it (stack config: accountId, region and
kmsKeyArn, an existing key whose policy lets SNS, CloudWatch and SageMaker use it).
"""

import dataclasses

import pulumi

from components.alerting import TeamAlerts, TeamAlertsArgs
from components.artifacts import model_artifacts_prefix
from components.config.observability import Severity
from components.config.serving import Canary, Serving, Slos
from components.foundation import artifact_bucket_name
from components.serving import ModelEndpoint, ModelEndpointArgs
from components.tagging import CostTags

ENVIRONMENT = "sandbox"
TEAM = "fraud"
MODEL = "card-fraud"
VERSION = 3
PAGE = "page"

config = pulumi.Config()
account_id = config.require("accountId")
region = config.require("region")
kms_key_arn = config.require("kmsKeyArn")

# Every taggable resource gets these (PlatformComponent's transform): the team's, and the model's on its endpoint.
team_tags = CostTags(environment=ENVIRONMENT, team=TEAM, cost_center="cc-1234", repository="acme/ml-models")
model_tags = dataclasses.replace(team_tags, model=MODEL)

alerts = TeamAlerts(
    f"{TEAM}-alerts",
    TeamAlertsArgs(
        environment=ENVIRONMENT,
        team=TEAM,
        owners=("fraud-ml@example.com",),
        on_call=("fraud-oncall@example.com",),
        severities=(Severity(name=PAGE, pages=True), Severity(name="notify", pages=False)),
        kms_key_arn=kms_key_arn,
    ),
    team_tags,
)

endpoint = ModelEndpoint(
    MODEL,
    ModelEndpointArgs(
        environment=ENVIRONMENT,
        model=MODEL,
        version=VERSION,
        # A canary rollout, rolled back by the latency and error alarms these SLOs make.
        serving=Serving(
            instance_type="ml.m5.large",
            instance_count=2,
            rollout=Canary(strategy="canary", percent=50, bake_minutes=10),
            slos=Slos(p99_latency_ms=250, max_5xx_errors_per_minute=5, extra_alarms=[]),
        ),
        model_package_arn=f"arn:aws:sagemaker:{region}:{account_id}:model-package/{MODEL}/{VERSION}",
        shadow_model_package_arn=None,
        account_id=account_id,
        region=region,
        # Where the registry environment keeps trained models; the role reads only this prefix of it.
        artifact_bucket=artifact_bucket_name("registry", account_id, region),
        artifact_prefix=model_artifacts_prefix(MODEL),
        image_repository_arn=f"arn:aws:ecr:{region}:{account_id}:repository/{MODEL}",
        kms_key_arn=kms_key_arn,
        network=None,
        protect_stateful=True,
        alarm_topic_arn=alerts.topic_arn(PAGE),
    ),
    model_tags,
)

pulumi.export("endpointName", endpoint.endpoint.name)
pulumi.export("pageTopicArn", alerts.topic_arn(PAGE))
