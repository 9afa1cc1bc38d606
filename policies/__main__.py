"""Builds the ml-platform policy pack. Constructing PolicyPack starts the policy server, so this file
alone constructs it; rule modules only define rules."""

from pulumi_policy import EnforcementLevel, PolicyPack

PolicyPack(name="ml-platform", enforcement_level=EnforcementLevel.ADVISORY, policies=[])
