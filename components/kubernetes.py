"""Team namespaces on the environment's EKS cluster, and the Kubernetes provider that reaches the cluster.

A `TeamNamespace` is a team's corner of the cluster: a namespace labelled for cost allocation, a
ResourceQuota and LimitRange sized in the environment file, network policies that deny everything but the
serving path, and a service account bound to an IAM role (IRSA) that reads only the team's model artifacts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.base import PlatformComponent
from components.config.kubernetes import KubernetesCluster, NamespaceSizing
from components.naming import IAM_ROLE, physical_name
from components.tagging import CostTags

# Cost-allocation labels. Kubecost maps its allocation concepts to label keys with
# `kubecostProductConfigs.labelMappingConfigs` (cost-analyzer chart values.yaml,
# https://github.com/kubecost/cost-analyzer-helm-chart/blob/develop/cost-analyzer/values.yaml, read 2026-11-25);
# Kyverno's "Require Kubecost Labels" policy names the keys `owner`, `team`, `department`, `app`, `env`
# (https://kyverno.io/policies/kubecost/require-kubecost-labels/require-kubecost-labels, read 2026-11-25).
# We use those keys; OpenCost aggregates by any label. `department` carries the finance cost center.
TEAM_LABEL = "team"
COST_CENTER_LABEL = "department"
ENVIRONMENT_LABEL = "env"
APP_LABEL = "app"
MANAGED_BY_LABELS = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "ml-platform"}

# The namespace label the API server sets on every namespace (immutable, Kubernetes >= 1.21):
# https://kubernetes.io/docs/reference/labels-annotations-taints/#kubernetes-io-metadata-name (read 2026-11-25).
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# The annotation the EKS pod identity webhook reads to inject a role's web identity token (IRSA):
# https://docs.aws.amazon.com/eks/latest/userguide/associate-service-account-role.html (read 2026-11-25).
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
MODEL_READER_SERVICE_ACCOUNT = "model-reader"


def cost_labels(tags: CostTags) -> dict[str, str]:
    """The Kubernetes labels carrying a team's (and optionally a model's) cost allocation."""
    labels = {
        TEAM_LABEL: tags.team,
        COST_CENTER_LABEL: tags.cost_center,
        ENVIRONMENT_LABEL: tags.environment,
        **MANAGED_BY_LABELS,
    }
    if tags.model:
        labels[APP_LABEL] = tags.model
    return labels


def namespace_name(team: str) -> str:
    """A team's namespace: prefixed so it cannot collide with the cluster's own namespaces."""
    return f"ml-{team}"


def artifact_prefix(team: str) -> str:
    """The team's prefix in the artifact bucket: `<team>/<model>/v<version>/` lives under it."""
    return f"{team}/"


def eks_context(account_id: str, region: str, cluster: KubernetesCluster) -> str:
    """The kubeconfig context `aws eks update-kubeconfig` writes for a cluster: its ARN (the default of
    `--alias`, https://docs.aws.amazon.com/cli/latest/reference/eks/update-kubeconfig.html, read 2026-11-25)."""
    return f"arn:aws:eks:{region}:{account_id}:cluster/{cluster.cluster_name}"


def kubernetes_provider_for(environment: str, account_id: str, region: str, cluster: KubernetesCluster) -> k8s.Provider:
    """The environment's explicit Kubernetes provider, configured from stack config.

    `ml-platform:kubeconfig` (a secret) holds the kubeconfig to use; without it the provider reads the
    ambient kubeconfig (CI runs `aws eks update-kubeconfig`). `ml-platform:kubeContext` names the context;
    it defaults to the cluster's ARN, the context name `aws eks update-kubeconfig` writes, so the stack
    never targets another environment's cluster by accident.
    """
    config = pulumi.Config()
    context = config.get("kubeContext") or eks_context(account_id, region, cluster)
    return k8s.Provider(
        f"kubernetes-{environment}",
        kubeconfig=config.get_secret("kubeconfig"),
        context=context,
    )


@dataclass(frozen=True)
class TeamNamespaceArgs:
    """Inputs of `TeamNamespace`."""

    environment: str
    """Environment (= stack) name, used in physical names and the `env` label."""
    team: str
    """The team owning the namespace."""
    account_id: str
    """The environment's account: the IRSA role trusts this account's OIDC provider of the cluster."""
    region: str
    """The environment's region (KMS decrypts only through S3 in this region)."""
    cluster: KubernetesCluster
    """The cluster (its OIDC issuer for IRSA, the namespaces allowed to reach the serving pods)."""
    sizing: NamespaceSizing
    """ResourceQuota and LimitRange sizes."""
    artifact_bucket_arn: pulumi.Input[str]
    """ARN of the environment's artifact bucket; the role reads only `<team>/` in it."""
    kms_key_arn: pulumi.Input[str]
    """The environment key the artifacts are encrypted with."""


class TeamNamespace(PlatformComponent):
    """A team's namespace with quota, limits, default-deny network policy and an IRSA service account."""

    namespace_name: pulumi.Output[str]
    service_account_name: pulumi.Output[str]
    role: aws.iam.Role

    def __init__(
        self, name: str, args: TeamNamespaceArgs, tags: CostTags, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("mlplatform:kubernetes:TeamNamespace", name, tags, opts)
        labels = cost_labels(tags)
        ns_name = namespace_name(args.team)

        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ns_name, labels=labels),
            opts=self.child_opts(),
        )
        self.namespace_name = namespace.metadata.apply(lambda m: str(m.name))

        def meta(
            object_name: str, annotations: dict[str, pulumi.Input[str]] | None = None
        ) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(
                name=object_name, namespace=self.namespace_name, labels=labels, annotations=annotations
            )

        sizing = args.sizing
        k8s.core.v1.ResourceQuota(
            f"{name}-quota",
            metadata=meta("team-quota"),
            spec=k8s.core.v1.ResourceQuotaSpecArgs(
                hard={
                    "requests.cpu": sizing.requests.cpu,
                    "requests.memory": sizing.requests.memory,
                    "limits.cpu": sizing.limits.cpu,
                    "limits.memory": sizing.limits.memory,
                    "pods": str(sizing.pods),
                }
            ),
            opts=self.child_opts(),
        )
        # A quota on CPU and memory rejects pods without requests and limits; the LimitRange gives them
        # defaults so a container that forgets them still schedules, within the quota.
        k8s.core.v1.LimitRange(
            f"{name}-limits",
            metadata=meta("container-defaults"),
            spec=k8s.core.v1.LimitRangeSpecArgs(
                limits=[
                    k8s.core.v1.LimitRangeItemArgs(
                        type="Container",
                        default_request={"cpu": sizing.default_request.cpu, "memory": sizing.default_request.memory},
                        default={"cpu": sizing.default_limit.cpu, "memory": sizing.default_limit.memory},
                    )
                ]
            ),
            opts=self.child_opts(),
        )
        self._network_policies(name, meta, args.cluster)

        # IRSA: only this namespace's service account may assume the role, and only with an STS audience.
        issuer = args.cluster.oidc_issuer
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": args.cluster.oidc_provider_arn(args.account_id)},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{ns_name}:{MODEL_READER_SERVICE_ACCOUNT}",
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
        self.role = aws.iam.Role(
            f"{name}-model-reader",
            name=physical_name(IAM_ROLE, "mlp", args.environment, args.team, "model-reader"),
            description=f"KServe in namespace {ns_name}: reads {args.team}'s model artifacts",
            assume_role_policy=json.dumps(trust, sort_keys=True),
            opts=self.child_opts(),
        )
        aws.iam.RolePolicy(
            f"{name}-model-reader-policy",
            role=self.role.id,
            policy=pulumi.Output.all(args.artifact_bucket_arn, args.kms_key_arn).apply(
                lambda arns: _model_reader_policy(str(arns[0]), str(arns[1]), args.team, args.region)
            ),
            opts=self.child_opts(),
        )
        service_account = k8s.core.v1.ServiceAccount(
            f"{name}-model-reader-sa",
            metadata=meta(MODEL_READER_SERVICE_ACCOUNT, {IRSA_ANNOTATION: self.role.arn}),
            # automountServiceAccountToken stays at its default: turning it off has kept the web identity
            # token from pods (https://github.com/aws/amazon-eks-pod-identity-webhook/issues/67).
            opts=self.child_opts(),
        )
        self.service_account_name = service_account.metadata.apply(lambda m: str(m.name))

        self.register_outputs(
            {
                "namespace": self.namespace_name,
                "serviceAccount": self.service_account_name,
                "roleArn": self.role.arn,
            }
        )

    def _network_policies(
        self, name: str, meta: Callable[[str], k8s.meta.v1.ObjectMetaArgs], cluster: KubernetesCluster
    ) -> None:
        """Deny all traffic in and out, then open the serving path and what the predictor needs."""
        net = k8s.networking.v1
        every_pod = k8s.meta.v1.LabelSelectorArgs()
        same_namespace = net.NetworkPolicyPeerArgs(pod_selector=every_pod)
        net.NetworkPolicy(
            f"{name}-default-deny",
            metadata=meta("default-deny"),
            spec=net.NetworkPolicySpecArgs(pod_selector=every_pod, policy_types=["Ingress", "Egress"]),
            opts=self.child_opts(),
        )
        serving_namespaces = k8s.meta.v1.LabelSelectorArgs(
            match_expressions=[
                k8s.meta.v1.LabelSelectorRequirementArgs(
                    key=NAMESPACE_NAME_LABEL, operator="In", values=list(cluster.serving_ingress_namespaces)
                )
            ]
        )
        net.NetworkPolicy(
            f"{name}-allow-serving",
            metadata=meta("allow-serving-ingress"),
            spec=net.NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Ingress"],
                ingress=[
                    net.NetworkPolicyIngressRuleArgs(
                        from_=[net.NetworkPolicyPeerArgs(namespace_selector=serving_namespaces), same_namespace]
                    )
                ],
            ),
            opts=self.child_opts(),
        )
        kube_system = k8s.meta.v1.LabelSelectorArgs(match_labels={NAMESPACE_NAME_LABEL: "kube-system"})
        net.NetworkPolicy(
            f"{name}-allow-egress",
            metadata=meta("allow-dns-and-aws-apis"),
            spec=net.NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Egress"],
                egress=[
                    net.NetworkPolicyEgressRuleArgs(
                        to=[net.NetworkPolicyPeerArgs(namespace_selector=kube_system)],
                        ports=[
                            net.NetworkPolicyPortArgs(protocol="UDP", port=53),
                            net.NetworkPolicyPortArgs(protocol="TCP", port=53),
                        ],
                    ),
                    # S3, STS and KMS are reached over HTTPS; their addresses are not fixed, so the port is
                    # the boundary here (VPC endpoints and their policies narrow it further).
                    net.NetworkPolicyEgressRuleArgs(
                        to=[net.NetworkPolicyPeerArgs(ip_block=net.IPBlockArgs(cidr="0.0.0.0/0"))],
                        ports=[net.NetworkPolicyPortArgs(protocol="TCP", port=443)],
                    ),
                    net.NetworkPolicyEgressRuleArgs(to=[same_namespace]),
                ],
            ),
            opts=self.child_opts(),
        )


def _model_reader_policy(bucket_arn: str, key_arn: str, team: str, region: str) -> str:
    """Read the team's prefix of the artifact bucket, decrypt with the environment key through S3 only."""
    prefix = artifact_prefix(team)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ReadTeamModelArtifacts",
                    "Effect": "Allow",
                    "Action": "s3:GetObject",
                    "Resource": f"{bucket_arn}/{prefix}*",
                },
                {
                    "Sid": "ListTeamModelArtifacts",
                    "Effect": "Allow",
                    "Action": "s3:ListBucket",
                    "Resource": bucket_arn,
                    "Condition": {"StringLike": {"s3:prefix": [prefix, f"{prefix}*"]}},
                },
                {
                    # https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service
                    # (read 2026-11-25): the key is usable only for S3 requests in this region.
                    "Sid": "DecryptArtifactsThroughS3",
                    "Effect": "Allow",
                    "Action": "kms:Decrypt",
                    "Resource": key_arn,
                    "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
                },
            ],
        },
        sort_keys=True,
    )
