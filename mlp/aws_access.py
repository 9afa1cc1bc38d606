"""The few `mlp` commands that call AWS turn a missing or refused credential into one line and exit 2.

Everything else in `mlp` is offline; these calls are the exception, and a machine without credentials (or
with expired ones) is a problem of the input, not a bug of ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from components.errors import InputError, Problem

CREDENTIALS_HINT = (
    "set AWS_PROFILE (then `aws sso login`) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the account to read"
)
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnrecognizedClientException")
EXPIRED = ("ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "RequestExpired")


@contextmanager
def aws_access(what: str, needs: str) -> Iterator[None]:
    """Run AWS calls for `what` (e.g. "mlp cost --actual"), which need the IAM permission `needs`."""
    # Imported here: botocore costs ~60 ms to import (measured), and every other command is offline.
    from botocore.exceptions import (
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
        PartialCredentialsError,
        TokenRetrievalError,
    )

    try:
        yield
    except (NoCredentialsError, PartialCredentialsError, TokenRetrievalError) as exc:
        raise InputError(
            [
                Problem(
                    "AWS credentials",
                    "",
                    f"{what} calls AWS ({needs}) and found no usable credentials "
                    f"({type(exc).__name__}); {CREDENTIALS_HINT}",
                )
            ]
        ) from None
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in DENIED:
            reason = f"the credentials may not call {needs}"
        elif code in EXPIRED:
            reason = "the credentials are expired or not valid"
        else:
            raise
        raise InputError(
            [Problem("AWS credentials", "", f"{what}: AWS refused the call ({code}): {reason}; {CREDENTIALS_HINT}")]
        ) from None
    except EndpointConnectionError as exc:
        raise InputError(
            [Problem("AWS", "", f"{what} cannot reach AWS ({exc}); it needs network access to AWS")]
        ) from None
