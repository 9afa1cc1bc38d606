"""The policy-pack configuration of an environment: enforcement levels and rule data, as CrossGuard reads it.

`pack_config` turns the environment's `policies` section into the JSON `pulumi preview --policy-pack-config`
takes: `{"all": {"enforcementLevel": ...}, "<rule>": {"enforcementLevel": ..., <properties>}}` — a level under
a rule overrides the one under `all` (https://www.pulumi.com/docs/using-pulumi/crossguard/configuration/,
read 2026-11-25). The offline runner reads levels and properties from the same document, so the offline check
and the real preview cannot disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from components.config import Policies
from policies.registry import RULES_BY_NAME
from policies.rules.base import Rule
from policies.rules.instances import CONFIG_KEY as INSTANCE_TYPES_KEY

PACK_NAME = "ml-platform"
PACK_DEFAULT_LEVEL = "mandatory"
"""The level when no configuration is given: a forgotten --policy-pack-config fails closed."""
LEVEL_KEY = "enforcementLevel"

PackConfig = dict[str, dict[str, Any]]

# Rule data that comes from the environment's `policies` section, by rule.
RULE_DATA: dict[str, Callable[[Policies], dict[str, Any]]] = {
    "instance-type-allowlist": lambda p: {INSTANCE_TYPES_KEY: list(p.allowed_instance_types)},
}


def pack_config(policies: Policies) -> PackConfig:
    """The policy-pack config JSON of an environment (every rule named, so the file reads on its own)."""
    config: PackConfig = {"all": {LEVEL_KEY: policies.enforcement}}
    for name in RULES_BY_NAME:
        entry: dict[str, Any] = {LEVEL_KEY: policies.rules.get(name, policies.enforcement)}
        if name in RULE_DATA:
            entry.update(RULE_DATA[name](policies))
        config[name] = entry
    return config


def level_of(rule: Rule, config: Mapping[str, Any]) -> str:
    """A rule's level as CrossGuard resolves it: the rule's own, else `all`'s, else the pack default."""
    for key in (rule.name, "all"):
        entry = config.get(key)
        if isinstance(entry, str):
            return entry
        if isinstance(entry, Mapping) and entry.get(LEVEL_KEY):
            return str(entry[LEVEL_KEY])
    return PACK_DEFAULT_LEVEL


def properties_of(rule: Rule, config: Mapping[str, Any]) -> dict[str, Any]:
    """A rule's configuration properties: schema defaults overridden by the configured values."""
    props = {k: schema["default"] for k, schema in rule.config_schema.items() if "default" in schema}
    entry = config.get(rule.name)
    if isinstance(entry, Mapping):
        props.update({k: v for k, v in entry.items() if k != LEVEL_KEY})
    return props
