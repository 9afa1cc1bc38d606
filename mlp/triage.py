"""`mlp triage ENV ALARM_NAME`: the triage function's note for one alarm, computed on a laptop.

The same code as the deployed function (components/functions/triage/), with the environment file's
settings, but read-only: it describes the alarm, the endpoint, metrics and reports, and posts nothing,
asks no model and writes no counter. Credentials come from the usual AWS chain (AWS_PROFILE, SSO, ...); a
read-only role of the environment's account is enough.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.composition import triage_config
from components.config.triage import Triage
from components.errors import InputError, Problem
from components.functions.triage.gather import describe_alarm, make_clients
from components.functions.triage.handler import Result, triage
from components.functions.triage.settings import settings_from_dict
from components.loader import load_environment


class CredentialsError(Exception):
    """No usable AWS credentials for the environment's account (one line for the user, exit 2)."""


def run_triage(env_name: str, alarm_name: str, root: Path, session: Any = None) -> Result:
    """The note for `alarm_name` in environment `env_name`. Raises InputError (unknown alarm) and
    CredentialsError (no or wrong credentials)."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

    env = load_environment(env_name, root)
    doc = triage_config(env, root, env.triage or Triage.model_validate({}))
    settings = settings_from_dict(doc, environ={})
    session = session or boto3.session.Session(region_name=env.region)
    where = f"environments/{env_name}.yaml deploys into account {env.account_id}, region {env.region}"
    try:
        account = session.client("sts", region_name=env.region).get_caller_identity()["Account"]
    except (NoCredentialsError, PartialCredentialsError) as exc:
        raise CredentialsError(
            f"no AWS credentials found ({exc}); {where}: sign in with a read-only role there, e.g. "
            "`aws sso login --profile <profile>` and AWS_PROFILE=<profile>"
        ) from None
    except (ClientError, BotoCoreError) as exc:
        raise CredentialsError(f"the AWS credentials could not be checked ({exc}); {where}") from None
    if account != env.account_id:
        raise CredentialsError(f"the AWS credentials are for account {account}; {where}: use a role of that account")
    clients = make_clients(env.region, session)
    try:
        alarm = describe_alarm(clients, alarm_name)
    except ClientError as exc:
        raise CredentialsError(f"cannot describe alarms with these credentials ({exc}); {where}") from None
    if alarm is None:
        raise InputError(
            [
                Problem(
                    "ALARM_NAME", "", f"no alarm named {alarm_name!r} in account {env.account_id}, region {env.region}"
                )
            ]
        )
    return triage(clients, settings, alarm, deliver_note=False, use_llm=False)
