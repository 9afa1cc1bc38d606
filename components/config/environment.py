"""The environment file: the desired state of one Pulumi stack."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from components.config.base import AccountId, CostCenter, Email, Region, Slug, Strict
from components.config.features import FeatureGroup
from components.config.finops import FinOps
from components.config.gitops import GitOps
from components.config.kubernetes import KubernetesCluster, NamespaceSizing
from components.config.observability import Alerting, ExperimentTrackingSettings, ImageDigest, Monitoring
from components.config.policies import Policies
from components.config.serving import Serving
from components.config.training import Training
from components.config.triage import Triage


class Team(Strict):
    """A squad that owns models and pays for them."""

    name: Slug
    """Team name; becomes the `team` cost-allocation tag."""
    cost_center: CostCenter
    """Finance cost center, e.g. CC-4100; becomes the `cost-center` tag."""
    owners: Annotated[list[Email], Field(min_length=1)]
    """People accountable for the team's models and spend (budget alerts go to them)."""
    monthly_budget_usd: Annotated[float, Field(gt=0)]
    """The team's budget in this environment, in USD per month."""
    on_call: Annotated[list[Email], Field(default_factory=list)]
    """The on-call rotation's addresses (e.g. a pager's email integration): alarms of a paging severity
    reach them as well as the owners."""
    namespace: NamespaceSizing | None = None
    """The team's namespace on the environment's Kubernetes cluster; omit when the team serves nothing there."""


class Network(Strict):
    """VPC placement for models, training and processing jobs."""

    vpc_id: Annotated[str, Field(pattern=r"^vpc-[0-9a-f]{8,17}$")]
    """The VPC the environment's workloads run in."""
    subnet_ids: Annotated[list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]{8,17}$")]], Field(min_length=1)]
    """Private subnets (at least one; two or more across zones in production)."""
    security_group_ids: Annotated[list[Annotated[str, Field(pattern=r"^sg-[0-9a-f]{8,17}$")]], Field(min_length=1)]
    """Security groups attached to model containers and jobs."""


class Model(Strict):
    """A model a team serves: its registry group, the pinned version and how it is served and trained."""

    name: Slug
    """Model name; used in resource names and the `model` tag."""
    team: Slug
    """Owning team; must be one of the environment's teams."""
    registry_group: Annotated[str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")]
    """SageMaker model package group holding the model's versions."""
    version: Annotated[int, Field(ge=1)]
    """Model-package version served in this environment (written by `mlp promote`)."""
    serving: Serving = Serving()
    """How the model is served."""
    training: Training | None = None
    """Training pipeline; omit when the model is trained elsewhere."""
    monitoring: Monitoring | None = None
    """Model Monitor on the endpoint's captured data (needs serving.data_capture); a daily data-quality
    monitor without alarms when the model captures data and this is omitted."""
    features: Annotated[list[Slug], Field(default_factory=list)]
    """Feature groups (names under `feature_groups`) the model reads: its execution roles may read them."""


class Environment(Strict):
    """One environment (= one Pulumi stack). Its name is the file name: environments/<name>.yaml."""

    account_id: AccountId
    """The AWS account this environment deploys into; the provider refuses any other."""
    region: Region
    """The AWS region this environment deploys into."""
    repository: Annotated[str, Field(pattern=r"^[\w.-]+/[\w.-]+$")]
    """owner/name of this repository; becomes the `repository` tag."""
    registry_environment: Slug | None = None
    """Environment whose account hosts the model registry this one serves from (cross-account); omit in
    the environment that hosts it."""
    promoted_from: Slug | None = None
    """Environment a model version must already serve before `mlp promote` may bring it here (e.g. prod
    promotes from staging); omit in the first stage. The chain of these fields is the promotion order,
    which is also the order merge-to-main deploys run in."""
    protect_stateful_resources: bool = True
    """Protect buckets, keys and registries from `pulumi destroy` (turn off only where data is disposable)."""
    network: Network | None = None
    """VPC settings; omit to run without a VPC (dev only — policies enforce it elsewhere)."""
    kubernetes: KubernetesCluster | None = None
    """The EKS cluster models with `serving.platform: kubernetes` run on; omit when none do."""
    finops: FinOps
    """Environment-wide budget settings."""
    teams: Annotated[list[Team], Field(min_length=1)]
    """Teams with resources in this environment."""
    models: Annotated[list[Model], Field(default_factory=list)]
    """Models served and trained in this environment."""
    feature_groups: Annotated[list[FeatureGroup], Field(default_factory=list)]
    """SageMaker Feature Store groups of the teams, with their ingestion and parity checks."""
    alerting: Alerting = Alerting()
    """Severities, and which severity each kind of alarm has (routing to each team's topics)."""
    gitops: GitOps = GitOps()
    """GitOps automation (approval-to-pull-request) hosted by this environment."""
    policies: Annotated[Policies, Field(default_factory=Policies)]
    """How strictly the policy pack's rules are enforced here, and the data they need."""
    triage: Triage | None = None
    """Alert triage: a function that answers every team alarm with a redacted triage note (docs/triage.md);
    omit for none."""
    monitoring_image_digest: ImageDigest | None = None
    """Digest (sha256:...) of the drift job's image in this environment's repository, as the
    monitoring-image workflow prints it; models on the `evidently` engine get no schedule until it is set."""
    experiment_tracking: ExperimentTrackingSettings = ExperimentTrackingSettings()
    """The MLflow tracking server (created in the environment that hosts the registries)."""


class RegistryLocation(Strict):
    """Where the model package groups live: the hosting environment's account and region."""

    environment: Slug
    account_id: AccountId
    region: Region
    experiment_tracking: bool = False
    """Whether the hosting environment runs the MLflow tracking server (shared with the environments that
    serve from its registry; components/mlflow.py)."""

    def model_package_group_arn(self, group: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:model-package-group/{group}"

    def model_package_arn(self, group: str, version: int) -> str:
        """ARN of one version of a model package group (versioned packages are `group/version`)."""
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:model-package/{group}/{version}"


class LoadedEnvironment(Environment):
    """An environment with what the loader derives: its name (the file name, never written in the file),
    where its registry lives and which accounts consume the registry it hosts."""

    name: Slug
    registry: RegistryLocation
    """The registry this environment serves from (its own when registry_environment is omitted)."""
    registry_consumer_account_ids: list[AccountId]
    """Accounts of the environments whose registry_environment is this one (for the registry policy)."""

    @property
    def hosts_registry(self) -> bool:
        return self.registry.environment == self.name
