"""GitOps settings of an environment: how registry approvals reach this repository."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from components.config.base import Strict

# A Secrets Manager secret name (letters, digits and /_+=.@-) or its full ARN
# (botocore secretsmanager service-2.json, shape SecretIdType; read 2026-11-25).
SecretId = Annotated[
    str, Field(max_length=2048, pattern=r"^(arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[\w/+=.@-]+$")
]


class ApprovalDispatch(Strict):
    """Approving a model version in the registry sends a `repository_dispatch` to this repository, whose
    promote workflow opens the version's promotion pull request."""

    github_token_secret: SecretId
    """Name or ARN of an existing Secrets Manager secret holding a GitHub token allowed to create
    repository dispatch events on the repository (fine-grained token: Contents read and write). The token
    never appears in an environment file or in stack config."""
    rate_limit_per_second: Annotated[int, Field(ge=1, le=300)] = 1
    """Most dispatches per second EventBridge sends; approvals are rare, so 1 is plenty."""


class GitOps(Strict):
    """GitOps automation hosted by this environment."""

    approval_dispatch: ApprovalDispatch | None = None
    """Open promotion pull requests automatically when a model version is approved in the registry this
    environment hosts (only allowed in the environment that hosts the registry)."""
