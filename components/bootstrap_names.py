"""Names of what the one-time account bootstrap creates, shared by the bootstrap program and the workflows.

The bootstrap program (bootstrap/, components/bootstrap.py) creates these per account; `mlp ci env` derives the
same names from an environment file, so no role ARN or backend URL is copied by hand into repository settings.
"""

from __future__ import annotations

from typing import Literal

Role = Literal["preview", "deploy"]

STATE_KEY_ALIAS = "alias/ml-platform-pulumi-state"
"""The state KMS key's alias; every stacks/Pulumi.<env>.yaml names it in its `secretsprovider`."""

ROLE_NAMES: dict[Role, str] = {"preview": "mlp-github-preview", "deploy": "mlp-github-deploy"}

SESSION_SECONDS = 3 * 3600
"""How long a workflow's role session lasts (configure-aws-credentials `role-duration-seconds`). It must outlast
the longest job that holds it (deploy jobs: 90 minutes, `timeout-minutes`); a test checks every job. The
roles' MaxSessionDuration is this value (IAM allows 3600 to 43200 seconds: botocore iam CreateRole
`MaxSessionDuration` range, read 2026-11-30)."""

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
GITHUB_OIDC_AUDIENCE = "sts.amazonaws.com"
"""The audience configure-aws-credentials requests by default (its action.yml `audience` input, v6.2.3, read
2026-11-30)."""


def state_bucket(account_id: str) -> str:
    """The S3 bucket holding the Pulumi state of the stacks in this account."""
    return f"mlp-pulumi-state-{account_id}"


def backend_url(account_id: str, region: str) -> str:
    """The DIY backend URL (`pulumi login s3://BUCKET?region=R`,
    https://www.pulumi.com/docs/iac/concepts/state-and-backends/, read 2026-11-30); the CLI reads it from
    PULUMI_BACKEND_URL."""
    return f"s3://{state_bucket(account_id)}?region={region}"


def role_arn(account_id: str, role: Role) -> str:
    return f"arn:aws:iam::{account_id}:role/{ROLE_NAMES[role]}"


def oidc_subjects(repository: str, stack: str, role: Role) -> list[str]:
    """The GitHub OIDC `sub` claims a role trusts, exactly.

    deploy: jobs in the stack's GitHub environment (main only; prod: required reviewers).
    preview: pull-request previews in `<stack>-preview` (required reviewers: no unreviewed code gets the
    role) and the deploy workflow's preview jobs on main (reviewed, merged code; no environment, so the
    claim is the branch). Claim formats: https://docs.github.com/en/actions/reference/security/oidc
    (read 2026-11-30).
    """
    if role == "deploy":
        return [f"repo:{repository}:environment:{stack}"]
    return [f"repo:{repository}:environment:{stack}-preview", f"repo:{repository}:ref:refs/heads/main"]
