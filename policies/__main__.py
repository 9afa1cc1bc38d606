"""Builds the ml-platform policy pack. Constructing PolicyPack starts the policy server, so this file
alone constructs it; the rules live in policies/rules/ and policies/adapter.py turns them into policies.

Levels and rule data come from the environment: `pulumi preview --policy-pack policies
--policy-pack-config policy-config.json`, the file written by `mlp policy ENV --pack-config`.
Without a config every rule is mandatory. See docs/policies.md.
"""

import sys
from pathlib import Path

# The pack imports the repository's packages (components, policies); make them importable however the
# analyzer starts this file (the uv environment also has them installed, editable).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi_policy import PolicyPack

from policies.adapter import build_policies, pack_enforcement_level
from policies.config import PACK_NAME

PolicyPack(name=PACK_NAME, enforcement_level=pack_enforcement_level(), policies=build_policies())
