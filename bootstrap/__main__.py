"""The bootstrap program: the account setup of the environment named like the current stack.

Runs under `pulumi up -s <env>` in bootstrap/ (an administrator, once per account) and under
`mlp bootstrap plan <env>` (mock runtime).
"""

import sys

import pulumi
import pulumi_aws as aws

from components.bootstrap import AccountBootstrap, AccountBootstrapArgs
from components.composition import platform_tags
from components.errors import InputError
from components.loader import load_environment

try:
    env = load_environment(pulumi.get_stack())
except InputError as exc:
    for problem in exc.problems:
        print(f"error: {problem}", file=sys.stderr)
    raise SystemExit(2) from None

# Pinned to the environment's account, like the platform's provider: credentials for another account fail.
provider = aws.Provider(f"aws-{env.name}-bootstrap", region=env.region, allowed_account_ids=[env.account_id])
dispatch = env.gitops.approval_dispatch
AccountBootstrap(
    f"{env.name}-bootstrap",
    AccountBootstrapArgs(
        environment=env.name,
        account_id=env.account_id,
        region=env.region,
        repository=env.repository,
        cluster_name=env.kubernetes.cluster_name if env.kubernetes else None,
        dispatch_secret=dispatch.github_token_secret if dispatch else None,
        protect=env.protect_stateful_resources,
    ),
    platform_tags(env),
    opts=pulumi.ResourceOptions(provider=provider),
)
