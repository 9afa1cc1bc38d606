"""policies/config.py: an environment's `policies` section as CrossGuard config, read back the same way."""

from __future__ import annotations

from components.config import Policies
from policies.config import PACK_DEFAULT_LEVEL, level_of, pack_config, properties_of
from policies.registry import RULES, RULES_BY_NAME

ALLOWLIST = RULES_BY_NAME["instance-type-allowlist"]
VPC = RULES_BY_NAME["training-in-vpc"]


def test_every_rule_is_named_with_the_default_level_unless_overridden() -> None:
    config = pack_config(Policies(enforcement="advisory", rules={"training-in-vpc": "disabled"}))
    assert config["all"] == {"enforcementLevel": "advisory"}
    assert set(config) == {"all", *RULES_BY_NAME}
    assert config["training-in-vpc"] == {"enforcementLevel": "disabled"}
    assert {level_of(r, config) for r in RULES if r is not VPC} == {"advisory"}


def test_rule_data_travels_with_the_rule() -> None:
    config = pack_config(Policies(allowed_instance_types=["ml.m5.large"]))
    assert config["instance-type-allowlist"] == {
        "enforcementLevel": "mandatory",
        "allowedInstanceTypes": ["ml.m5.large"],
    }
    assert properties_of(ALLOWLIST, config) == {"allowedInstanceTypes": ["ml.m5.large"]}


def test_levels_resolve_like_crossguard() -> None:
    assert level_of(VPC, {"all": {"enforcementLevel": "advisory"}, "training-in-vpc": "mandatory"}) == "mandatory"
    assert level_of(VPC, {"all": {"enforcementLevel": "advisory"}}) == "advisory"
    assert level_of(VPC, {"all": "disabled"}) == "disabled"
    assert level_of(VPC, {}) == PACK_DEFAULT_LEVEL == "mandatory"


def test_schema_defaults_fill_missing_properties() -> None:
    assert properties_of(ALLOWLIST, {}) == {"allowedInstanceTypes": []}
    assert properties_of(VPC, {"training-in-vpc": {"enforcementLevel": "advisory"}}) == {}


def test_the_schema_default_is_mandatory() -> None:
    assert Policies().enforcement == "mandatory"
    assert Policies().rules == {}
