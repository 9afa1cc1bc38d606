"""What every rule is made of: a plain function over resource dicts shaped like the plan document's.

A resource is a mapping with `type`, `name`, `urn`, `protect`, `dependencies` and `inputs` (engine property
names, camelCase, after transforms). The offline runner passes the plan document's resources as they are;
the policy pack adapts Pulumi's validation arguments to the same shape (policies/adapter.py). So a rule is
written and tested once and runs in both places.

A resource rule looks at one resource and returns messages. A stack rule looks at all resources (rules
that need another resource: the bucket's encryption configuration, the alarm an endpoint rolls back on)
and returns (resource or None, message) pairs; None means the stack as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Resource = Mapping[str, Any]
"""One resource as the plan document has it."""
RuleConfig = Mapping[str, Any]
"""The rule's configuration properties (policy-pack config minus `enforcementLevel`)."""
StackFinding = tuple[Resource | None, str]

ResourceCheck = Callable[[Resource, RuleConfig], list[str]]
StackCheck = Callable[[Sequence[Resource], RuleConfig], list[StackFinding]]

KNOWN_AFTER_APPLY = "(known after apply)"
"""How the plan document and the adapter render a value the engine only knows after deployment."""


@dataclass(frozen=True)
class Rule:
    """One policy: a kebab-case name, a one-sentence description and the check."""

    name: str
    description: str
    kind: Literal["resource", "stack"]
    check: ResourceCheck | StackCheck
    config_schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """JSON Schema of the rule's configuration properties (CrossGuard `config_schema.properties`)."""

    def run(self, resources: Sequence[Resource], config: RuleConfig) -> list[StackFinding]:
        """Findings over a whole plan, whichever kind the rule is."""
        if self.kind == "stack":
            return self.check(resources, config)  # type: ignore[arg-type,return-value]
        found: list[StackFinding] = []
        for r in resources:
            if r.get("custom", True):
                found += [(r, msg) for msg in self.check(r, config)]  # type: ignore[arg-type,misc]
        return found


def resource_rule(name: str, description: str, **kwargs: Any) -> Callable[[ResourceCheck], Rule]:
    """Decorator: a rule over one resource."""

    def wrap(check: ResourceCheck) -> Rule:
        return Rule(name, description, "resource", check, **kwargs)

    return wrap


def stack_rule(name: str, description: str, **kwargs: Any) -> Callable[[StackCheck], Rule]:
    """Decorator: a rule over every resource of the stack."""

    def wrap(check: StackCheck) -> Rule:
        return Rule(name, description, "stack", check, **kwargs)

    return wrap


def inputs(r: Resource) -> Mapping[str, Any]:
    value = r.get("inputs")
    return value if isinstance(value, Mapping) else {}


def of_type(resources: Iterable[Resource], *types: str) -> list[Resource]:
    return [r for r in resources if r.get("type") in types]


def known(value: Any) -> bool:
    """Whether a value is known at plan time (not the after-apply marker)."""
    return bool(value != KNOWN_AFTER_APPLY)


def dig(value: Any, *path: str | int) -> Any:
    """value[path[0]][path[1]]..., or None where a step is missing."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
        elif not isinstance(value, Mapping):
            return None
        value = value[step] if isinstance(step, int) else value.get(step)
    return value


def as_list(value: Any) -> list[Any]:
    """IAM-style fields hold one value or a list; None is empty."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def parse_json_document(value: Any) -> Mapping[str, Any] | None:
    """A JSON policy or definition given as a string (as the engine sees it) or already as a mapping."""
    if isinstance(value, Mapping):
        return value
    if isinstance(value, str) and known(value):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, Mapping) else None
    return None


def statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not document:
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def related(target: Resource, attached: Resource, key: str = "bucket") -> bool:
    """Whether `attached` (an S3 sub-resource, say) belongs to `target`.

    By value when both sides are known at plan time (the attached resource's `bucket` input is the bucket's
    name), otherwise by the dependency the engine records when an input is another resource's output —
    which is how a real preview sees a bucket that does not exist yet.
    """
    ref = inputs(attached).get(key)
    name = inputs(target).get(key)
    if isinstance(ref, str) and known(ref) and isinstance(name, str) and known(name):
        return ref == name
    return target.get("urn") in (attached.get("dependencies") or [])
