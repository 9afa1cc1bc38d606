"""Schema errors in words: the rule a person needs instead of pydantic's text ("String should match pattern").

The loader (components/loader.py) passes every validation error through `in_words`; an error this module
does not know keeps pydantic's message, with the value appended.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import ErrorDetails

from components.config.serving import TRAFFIC_ROUTING

# Each pattern of the schema, as the rule it enforces. A pattern missing here is shown as pydantic says it.
PATTERN_WORDS: dict[str, str] = {
    r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$": (
        "use lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen, "
        "at most 40 characters (the name becomes part of AWS resource names, tags and Kubernetes labels)"
    ),
    r"^\d{12}$": 'an AWS account id is exactly 12 digits, written in quotes, e.g. "123456789012"',
    r"^[a-z]{2}(-gov)?-[a-z]+-\d$": "an AWS region looks like eu-west-1",
    r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$": "an email address looks like team@example.com",
    r"^CC-\d{4,6}$": "a cost center is CC- followed by 4 to 6 digits, e.g. CC-4100",
    r"^vpc-[0-9a-f]{8,17}$": "a VPC id is vpc- followed by 8 to 17 hexadecimal digits",
    r"^subnet-[0-9a-f]{8,17}$": "a subnet id is subnet- followed by 8 to 17 hexadecimal digits",
    r"^sg-[0-9a-f]{8,17}$": "a security group id is sg- followed by 8 to 17 hexadecimal digits",
    r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$": (
        "a SageMaker model package group name has letters, digits and hyphens, at most 63 characters, "
        "starting and ending with a letter or digit"
    ),
    r"^[\w.-]+/[\w.-]+$": "write the repository as owner/name, e.g. payments-co/ml-platform",
    r"^1\.[0-9]{2}$": 'a Kubernetes version is 1. followed by two digits, in quotes, e.g. "1.33"',
    r"^[a-z][a-z0-9-]*[a-z0-9]$": "a rule name has lowercase letters, digits and hyphens, e.g. training-in-vpc",
    r"^ml\.[a-z0-9]+\.[a-z0-9]+$": "a SageMaker instance type looks like ml.m5.xlarge",
    r"^ml\.[a-z0-9-]+\.[a-z0-9]+$": "a SageMaker instance type looks like ml.m5.xlarge",
    r"^[a-zA-Z0-9][a-zA-Z0-9!_.*'()/-]*/$": "an S3 key prefix ends with / and has no spaces, e.g. code/my-model/",
    r"^\d+\.\d+-\d+$": "a framework image version looks like 1.7-1",
    r"^[a-z][a-z0-9_]{0,62}$": "a metric name has lowercase letters, digits and underscores, starting with a letter",
    r"^(Average|Sum|Minimum|Maximum|SampleCount|p\d{1,2}(\.\d{1,2})?)$": (
        "a statistic is Average, Sum, Minimum, Maximum, SampleCount or a percentile such as p95 or p99.9"
    ),
    r"^(arn:aws[\w-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:)?[\w/+=.@-]+$": (
        "a Secrets Manager secret name (letters, digits and /_+=.@-) or its full ARN"
    ),
    r"^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$": "an EKS cluster name has letters, digits, - and _, at most 100 characters",
    r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$": (
        'a Kubernetes quantity is a number with an optional unit, e.g. "500m", "2", "512Mi", "4Gi" (quote it)'
    ),
    r"^[A-Za-z0-9]{1,255}$": "a CloudWatch metric name here has letters and digits only, e.g. Invocation4XXErrors",
    r"^[A-Za-z0-9_.-]{1,200}$": "a feature name has letters, digits, _ . and -, at most 200 characters",
    r"^[a-z0-9]+(?:[._/-][a-z0-9]+)*$": (
        "an ECR repository name has lowercase letters and digits, separated by . _ / or -"
    ),
    r"^[a-z0-9_]{1,64}$": "a metric name has lowercase letters, digits and underscores, at most 64 characters",
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9][a-z0-9._/-]*(:[\w.-]+|@sha256:[0-9a-f]{64})$": (
        "an ECR image is ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY:TAG (or @sha256:DIGEST)"
    ),
    r"^oidc\.eks\.[a-z]{2}(-gov)?-[a-z]+-[0-9]\.amazonaws\.com/id/[0-9A-F]{32}$": (
        "the cluster's OIDC issuer without https://, e.g. oidc.eks.eu-west-1.amazonaws.com/id/<32 hex digits>"
    ),
    r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s]*)?$": "an S3 location is s3://bucket/prefix, without spaces",
}

# Rules whose limit AWS imposes: (the field's last key, pydantic's error type) -> the rule and its page.
LIMIT_WORDS: dict[tuple[str, str], str] = {
    ("percent", "less_than_equal"): (
        "a canary receives at most 50% of the fleet: SageMaker's CanarySize \"must be less than or equal to 50% "
        f"of the variant's total instance count\" ({TRAFFIC_ROUTING}); to move more at once use a linear rollout "
        "or all-at-once"
    ),
    ("step_percent", "less_than_equal"): (
        f"a linear step moves 10-50% of the fleet ({TRAFFIC_ROUTING}); use 50 or less, or all-at-once"
    ),
}


def in_words(err: ErrorDetails, allowed_fields: list[str], raw: str | None) -> str:
    """The message of one validation error, in words. `allowed_fields`: the fields of the model at the error's
    location (for a mapping that was expected); `raw`: the value as written in the file, when known."""
    kind, message = err["type"], err["msg"]
    value: Any = err.get("input")
    ctx: dict[str, Any] = dict(err.get("ctx") or {})
    key = next((str(p) for p in reversed(err["loc"]) if isinstance(p, str)), "")
    pattern = str(ctx.get("pattern", ""))
    if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        written = raw if raw is not None else str(value)
        return (
            f"YAML read {written} as a number ({value!r}), and a text value is expected here: quote it, "
            f'"{written}", so leading zeros and trailing digits are kept'
        )
    fields = f" with the keys {', '.join(allowed_fields)}" if allowed_fields else ""
    words = {
        "value_error": message.removeprefix("Value error, "),
        "string_pattern_mismatch": f"{value!r} does not fit: {PATTERN_WORDS.get(pattern)}",
        "finite_number": f"must be a finite number, not {value!r} (.inf and .nan are YAML's infinity and not-a-number)",
        "model_type": f"must be a mapping (key: value lines indented below it){fields}; got {value!r}",
        "model_attributes_type": f"must be a mapping (key: value lines indented below it){fields}; got {value!r}",
        "dict_type": f"must be a mapping (key: value lines indented below it); got {value!r}",
        "list_type": f"must be a list (lines starting with '- ', or [a, b]); got {value!r}",
        "literal_error": f"{value!r} is not allowed; {message.removeprefix('Input should be ')}",
        "union_tag_invalid": f"{ctx.get('tag')!r} is not one of {ctx.get('expected_tags')}",
        "int_parsing": f"must be a whole number, e.g. 3 (got {value!r})",
        "int_from_float": f"must be a whole number, e.g. 3 (got {value!r})",
        "int_type": f"must be a whole number, e.g. 3 (got {value!r})",
        "float_parsing": f"must be a number, e.g. 0.85 (got {value!r})",
        "bool_parsing": f"must be true or false (got {value!r})",
        "bool_type": f"must be true or false (got {value!r})",
        "too_short": f"needs at least {ctx.get('min_length')} {'entry' if ctx.get('min_length') == 1 else 'entries'}",
        "too_long": f"takes at most {ctx.get('max_length')} entries (got {ctx.get('actual_length')})",
    }
    if (key, kind) in LIMIT_WORDS:
        return f"{LIMIT_WORDS[key, kind]} (got {value!r})"
    if kind in words and (kind != "string_pattern_mismatch" or pattern in PATTERN_WORDS):
        return words[kind]
    # Bounds and the rest: pydantic's own sentence, said as a rule ("must be less than or equal to 60").
    message = message.replace("Input should be ", "must be ", 1)
    if value is not None and not isinstance(value, (dict, list)):
        return f"{message} (got {value!r})"
    return message
