"""An estimate (mlp/cost_estimate.py) as `mlp cost` prints it: text for a terminal, JSON for tools.

An unknown cost reads "unknown", never zero; a total with unknown parts names them.
"""

from __future__ import annotations

import math
from typing import Any

from mlp.cost_catalog import STATUSES
from mlp.cost_estimate import GROUPS, UNKNOWN, Estimate, Gaps, LineItem, Total
from mlp.price_list import REFRESHED_KINDS

REFRESH = "uv run mlp prices refresh"


def money(low: float | None, high: float | None = None) -> str:
    if low is None:
        return UNKNOWN
    high = low if high is None else high
    if math.isclose(low, high):
        return f"{low:,.2f}"
    return f"{low:,.2f}..{high:,.2f}"


def total_text(total: Total) -> str:
    if total.complete:
        return money(total.low, total.high)
    known = money(total.low, total.high)
    return f"{UNKNOWN} ({known} known + {len(total.unknown)} unknown: {', '.join(total.unknown)})"


def total_json(total: Total) -> dict[str, Any]:
    return {
        "monthly_usd": round(total.low, 2) if total.complete else UNKNOWN,
        "monthly_usd_max": round(total.high, 2) if total.complete else UNKNOWN,
        "known_part_usd": round(total.low, 2),
        "known_part_usd_max": round(total.high, 2),
        "unknown_resources": list(total.unknown),
    }


def render_text(est: Estimate) -> str:
    lines = [f"Monthly cost estimate for {est.stack} ({est.region}), USD", ""]
    if est.items:
        w_res = max(len(i.resource) for i in est.items) + 2
        w_team = max(len(i.owner.team) for i in est.items) + 2
        w_model = max(len(i.owner.model) for i in est.items) + 2
        lines.append(f"  {'Resource':<{w_res}}{'Team':<{w_team}}{'Model':<{w_model}}{'USD/month':>22}  What")
        for i in est.items:
            lines.append(
                f"  {i.resource:<{w_res}}{i.owner.team:<{w_team}}{i.owner.model:<{w_model}}"
                f"{money(i.low, i.high):>22}  {i.description}"
            )
            lines.extend(f"  {'':<{w_res + w_team + w_model + 22}}  ! {n}" for n in i.notes)
    else:
        lines.append("  nothing in the plan has a price this tool knows")
    for group, title in (("team", "By team"), ("cost_center", "By cost center"), ("model", "By model")):
        lines += ["", f"{title}:"]
        lines += [f"  {k:<24}{total_text(t)}" for k, t in est.by(group).items()]
    lines += ["", f"Total: {total_text(est.total())}"]
    if est.shared:
        lines += ["", "Shared costs:"] + [f"  {s}" for s in est.shared]
    if est.not_estimated:
        lines += ["", "Not estimated (not in the total), by type:"]
        for status in sorted({n.status for n in est.not_estimated}, key=_STATUS_ORDER.index):
            lines.append(f"  {status}:")
            lines += [f"    {n.type} x{n.count}: {n.reason}" for n in est.not_estimated if n.status == status]
    if est.rollouts:
        lines += ["", "Rollouts (temporary, not in the monthly total):"]
        lines += [f"  {r}" for r in est.rollouts]
    lines += ["", "Assumptions:"] + [f"  - {a}" for a in est.assumptions]
    lines += known_text(est)
    return "\n".join(lines) + "\n"


def known_text(est: Estimate) -> list[str]:
    """ "What would make it known": the missing prices and how to fill them, then the missing environment-file
    assumptions, each with the lines it would complete; nothing when the total is known."""
    gaps = est.gaps()
    if gaps.empty:
        return []
    lines = ["", "What would make it known:"]
    if gaps.prices:
        lines.append("  Prices missing from the price file:")
        for price, items in gaps.prices:
            how = "" if price.kind in REFRESHED_KINDS else " (not in the offer rows `mlp prices refresh` reads)"
            lines.append(f"    {price.kind} {price.item} ({price.region}): {_count(items)}{how}")
        command = refresh_command(gaps)
        if command:
            lines.append(f"  Fill them with: {command}  (AWS Price List bulk files; the weekly prices.yml workflow)")
    if gaps.fields:
        where = f"environments/{est.stack}.yaml"
        lines.append(f"  Assumptions missing from {where} (each completes its lines, with their prices):")
        for missing, items in gaps.fields:
            subject = f" for {missing.subject}" if missing.subject else ""
            lines.append(f"    {missing.field}{subject}: {_count(items)} of {_resources(items)}")
    if gaps.other:
        lines.append("  Unknown for other reasons (the ! notes above):")
        lines += [f"    {i.resource}: {'; '.join(i.notes) or i.description}" for i in gaps.other]
    return lines


def refresh_command(gaps: Gaps) -> str | None:
    """The command that fills the missing prices `mlp prices refresh` reads, or None when there are none."""
    regions = sorted({p.region for p, _ in gaps.prices if p.kind in REFRESHED_KINDS})
    if not regions:
        return None
    if UNKNOWN in regions:
        return f"{REFRESH} --region REGION"
    return " ".join([REFRESH, *(f"--region {r}" for r in regions)])


def _count(items: tuple[LineItem, ...]) -> str:
    return f"{len(items)} line" + ("" if len(items) == 1 else "s")


def _names(items: tuple[LineItem, ...]) -> list[str]:
    return sorted({i.resource for i in items})


def _resources(items: tuple[LineItem, ...]) -> str:
    return ", ".join(_names(items))


def known_json(est: Estimate) -> dict[str, Any]:
    gaps = est.gaps()
    return {
        "prices": [
            {
                "kind": p.kind,
                "item": p.item,
                "region": p.region,
                "lines": len(items),
                "resources": _names(items),
                "filled_by_refresh": p.kind in REFRESHED_KINDS,
            }
            for p, items in gaps.prices
        ],
        "refresh_command": refresh_command(gaps),
        "assumptions": [
            {"field": f.field, "subject": f.subject, "lines": len(items), "resources": _names(items)}
            for f, items in gaps.fields
        ],
        "other": [{"resource": i.resource, "description": i.description, "notes": list(i.notes)} for i in gaps.other],
    }


_STATUS_ORDER = list(STATUSES)


def to_json(est: Estimate) -> dict[str, Any]:
    return {
        "stack": est.stack,
        "region": est.region,
        "currency": "USD",
        "hours_per_month": est.hours_per_month,
        "items": [
            {
                "resource": i.resource,
                "category": i.category,
                "team": i.owner.team,
                "cost_center": i.owner.cost_center,
                "model": i.owner.model,
                "description": i.description,
                "monthly_usd": UNKNOWN if i.low is None else round(i.low, 2),
                "monthly_usd_max": UNKNOWN if i.high is None else round(i.high, 2),
                "prices": [
                    {
                        "kind": p.kind,
                        "item": p.item,
                        "region": p.region,
                        "usd_per_unit": p.usd_per_unit,
                        "unit": p.unit,
                        "source": p.source,
                        "read_on": p.read_on,
                        "published": p.published,
                    }
                    for p in i.prices
                ],
                "notes": list(i.notes),
            }
            for i in est.items
        ],
        **{f"by_{g}": {k: total_json(t) for k, t in est.by(g).items()} for g in GROUPS},
        "total": total_json(est.total()),
        "shared": list(est.shared),
        "estimated_types": list(est.estimated_types),
        "not_estimated": [
            {"type": n.type, "count": n.count, "status": n.status, "reason": n.reason} for n in est.not_estimated
        ],
        "rollouts": list(est.rollouts),
        "assumptions": list(est.assumptions),
        "to_make_known": known_json(est),
    }
