"""Building blocks shared by every section of the environment schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from components.config.expressions import check_region


class Strict(BaseModel):
    """Every schema model forbids unknown keys: a typo in an env file is an error, not a default."""

    # allow_inf_nan=False: YAML reads `.inf` and `.nan` as floats, and no amount, threshold or limit is infinite.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True, allow_inf_nan=False)


# Lower-case DNS-style names: they end up in resource names, tags and Kubernetes labels.
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,38}[a-z0-9]$")]
AccountId = Annotated[str, StringConstraints(pattern=r"^\d{12}$")]
# Partition prefix + geography + number, e.g. eu-west-1, us-gov-west-1.
# The region must also be one botocore's endpoint data knows, in the partition our ARNs use (expressions.py).
Region = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$"), AfterValidator(check_region)]
Email = Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$")]
CostCenter = Annotated[str, StringConstraints(pattern=r"^CC-\d{4,6}$")]
