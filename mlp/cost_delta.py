"""The change in monthly cost between two estimates (a git revision and the working tree), by team and
model, as text or as the markdown a pull request shows (`mlp cost ENV --against REV`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlp.cost_estimate import UNKNOWN, Estimate, Total
from mlp.cost_render import total_text


@dataclass(frozen=True)
class Delta:
    """Monthly change of one group between two estimates (None = unknown)."""

    group: str
    before: Total
    after: Total
    low: float | None
    high: float | None


def deltas(before: Estimate, after: Estimate, group: str) -> list[Delta]:
    """Per group value: the change in monthly cost. Items unchanged between the revisions contribute
    nothing, even when unpriced; a changed item with an unknown price makes the delta unknown."""
    old = {i.key: i for i in before.items}
    new = {i.key: i for i in after.items}
    values = sorted({getattr(i.owner, group) for i in (*old.values(), *new.values())})
    result = []
    for value in values:
        low: float | None = 0.0
        high: float | None = 0.0
        for key in sorted(set(old) | set(new)):
            a, b = old.get(key), new.get(key)
            a = a if a and getattr(a.owner, group) == value else None
            b = b if b and getattr(b.owner, group) == value else None
            if a is None and b is None:
                continue
            if a and b and (a.description, a.prices, a.low, a.high) == (b.description, b.prices, b.low, b.high):
                continue
            if (a and not a.known) or (b and not b.known):
                low = high = None
                break
            assert low is not None and high is not None
            low += (b.low if b and b.low is not None else 0.0) - (a.low if a and a.low is not None else 0.0)
            high += (b.high if b and b.high is not None else 0.0) - (a.high if a and a.high is not None else 0.0)
        result.append(
            Delta(
                value,
                before.total(i for i in before.items if getattr(i.owner, group) == value),
                after.total(i for i in after.items if getattr(i.owner, group) == value),
                low,
                high,
            )
        )
    return result


def signed(low: float | None, high: float | None) -> str:
    if low is None or high is None:
        return UNKNOWN
    if math.isclose(low, high):
        return f"{low:+,.2f}"
    return f"{low:+,.2f}..{high:+,.2f}"


def render_delta_text(before: Estimate, after: Estimate, ref: str) -> str:
    lines = [f"Monthly cost change for {after.stack}: {ref} -> working tree, USD", ""]
    for group, title in (("team", "By team"), ("model", "By model")):
        lines.append(f"{title}:")
        for d in deltas(before, after, group):
            lines.append(
                f"  {d.group:<24}{total_text(d.before):>16} -> {total_text(d.after):<16} {signed(d.low, d.high)}"
            )
        lines.append("")
    total = _total_delta(before, after)
    lines.append(f"Total: {total_text(before.total())} -> {total_text(after.total())} ({signed(*total)})")
    added = not_estimated_changes(before, after)
    if added:
        lines += ["", "Not estimated, changed by this revision (not in the totals):"] + [f"  {a}" for a in added]
    return "\n".join(lines) + "\n"


def not_estimated_changes(before: Estimate, after: Estimate) -> list[str]:
    """Resource types without a cost line whose count changes between two estimates, with the reason."""
    old = {n.type: n.count for n in before.not_estimated}
    changed = []
    for n in after.not_estimated:
        if n.count != old.get(n.type, 0):
            changed.append(f"{n.type}: {old.get(n.type, 0)} -> {n.count} ({n.status}: {n.reason})")
    now = {n.type for n in after.not_estimated}
    changed += [f"{t}: {count} -> 0" for t, count in sorted(old.items()) if t not in now]
    return changed


def render_delta_markdown(before: Estimate, after: Estimate, ref: str) -> str:
    lines = [f"### Monthly cost change for `{after.stack}` ({ref} → this change)", ""]
    lines += ["| Team | Model | Before (USD/month) | After (USD/month) | Change |", "|---|---|---:|---:|---:|"]
    rows = _team_model_rows(before, after)
    lines += [f"| {t} | {m} | {b} | {a} | {c} |" for t, m, b, a, c in rows]
    total = _total_delta(before, after)
    lines.append(f"| **Total** | | {total_text(before.total())} | {total_text(after.total())} | **{signed(*total)}** |")
    lines += [
        "",
        f"Prices: on-demand, {after.region}; {after.hours_per_month:g} hours per month. "
        "Unknown means a price or usage figure is missing, never zero.",
    ]
    added = not_estimated_changes(before, after)
    if added:
        lines += ["", "Not estimated, changed by this change (not in the totals):"] + [f"- `{a}`" for a in added]
    if after.rollouts:
        lines += ["", "Rollouts (temporary):"] + [f"- {r}" for r in after.rollouts]
    return "\n".join(lines) + "\n"


def _team_model_rows(before: Estimate, after: Estimate) -> list[tuple[str, str, str, str, str]]:
    pairs = sorted({(i.owner.team, i.owner.model) for i in (*before.items, *after.items)})
    rows = []
    for team, model in pairs:

        def pick(est: Estimate, team: str = team, model: str = model) -> Estimate:
            chosen = tuple(i for i in est.items if (i.owner.team, i.owner.model) == (team, model))
            return Estimate(est.stack, est.region, est.hours_per_month, est.hours_source, chosen, (), ())

        b, a = pick(before), pick(after)
        d = _total_delta(b, a)
        rows.append((team, model, total_text(b.total()), total_text(a.total()), signed(*d)))
    return rows


def _total_delta(before: Estimate, after: Estimate) -> tuple[float | None, float | None]:
    """The change over everything: the sum of the per-team deltas (unknown if any is unknown)."""
    low: float | None = 0.0
    high: float | None = 0.0
    for d in deltas(before, after, "team"):
        if d.low is None or d.high is None or low is None or high is None:
            return None, None
        low += d.low
        high += d.high
    return low, high
