"""Every rule of the pack, in the order reports list them. Importing this starts no server."""

from __future__ import annotations

from policies.rules import (
    budgets,
    encryption,
    iam,
    instances,
    kms_readers,
    network,
    pipelines,
    protection,
    serving,
    storage,
    tags,
)
from policies.rules.base import Rule

RULES: tuple[Rule, ...] = (
    *tags.RULES,
    *encryption.RULES,
    *pipelines.RULES,
    *storage.RULES,
    *iam.RULES,
    *kms_readers.RULES,
    *network.RULES,
    *serving.RULES,
    *instances.RULES,
    *budgets.RULES,
    *protection.RULES,
)
RULES_BY_NAME = {rule.name: rule for rule in RULES}
