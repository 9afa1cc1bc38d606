"""The pack's front end: Pulumi's validation arguments adapted to the plain resource dicts the rules take.

A rule reads a resource the way the plan document has it (`type`, `name`, `urn`, `protect`, `dependencies`,
`inputs` with the engine's camelCase property names). CrossGuard hands the same engine properties as
`props`; values unknown during preview are rendered as the plan document renders them, so a rule treats an
unknown the same way offline and in preview.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from policies.registry import RULES
from policies.rules.base import KNOWN_AFTER_APPLY, Resource, Rule


def plain(value: Any) -> Any:
    """A CrossGuard property value as plain JSON-like data; unknowns become the plan document's marker."""
    if isinstance(value, str | bytes | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[str(key)] = plain(value[key])
            except UnknownValueError:
                out[str(key)] = KNOWN_AFTER_APPLY
        return out
    if isinstance(value, Sequence):
        items: list[Any] = []
        for i in range(len(value)):
            try:
                items.append(plain(value[i]))
            except UnknownValueError:
                items.append(KNOWN_AFTER_APPLY)
        return items
    inner = getattr(value, "value", None)  # pulumi_policy.secret.Secret
    return plain(inner) if inner is not None else str(value)


def from_resource_args(args: ResourceValidationArgs) -> Resource:
    return {
        "urn": args.urn,
        "type": args.resource_type,
        "name": args.name,
        "parent": args.opts.parent,
        "custom": True,
        "protect": bool(args.opts.protect),
        "dependencies": [],
        "inputs": plain(args.props),
    }


def from_stack_resource(r: PolicyResource) -> Resource:
    return {
        "urn": r.urn,
        "type": r.resource_type,
        "name": r.name,
        "parent": r.parent.urn if r.parent is not None else r.opts.parent,
        "custom": True,
        "protect": bool(r.opts.protect),
        "dependencies": sorted({d.urn for d in r.dependencies}),
        "inputs": plain(r.props),
    }


def to_policy(rule: Rule) -> Policy:
    """The CrossGuard policy of a rule. Levels are left to the pack default and the pack config."""
    schema = (
        PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config_schema.items()})
        if rule.config_schema
        else None
    )

    if rule.kind == "resource":

        def validate_resource(args: ResourceValidationArgs, report: ReportViolation) -> None:
            resource = from_resource_args(args)
            for _, message in rule.run([resource], args.get_config()):
                report(message, None)

        return ResourceValidationPolicy(rule.name, rule.description, validate_resource, config_schema=schema)

    def validate_stack(args: StackValidationArgs, report: ReportViolation) -> None:
        resources = [from_stack_resource(r) for r in args.resources]
        for resource, message in rule.run(resources, args.get_config()):
            report(message, resource["urn"] if resource is not None else None)

    return StackValidationPolicy(rule.name, rule.description, validate_stack, config_schema=schema)


def build_policies() -> list[Policy]:
    return [to_policy(rule) for rule in RULES]


def pack_enforcement_level() -> EnforcementLevel:
    from policies.config import PACK_DEFAULT_LEVEL

    return EnforcementLevel(PACK_DEFAULT_LEVEL)
