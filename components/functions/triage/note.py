"""The triage note: short Markdown saying what fired, the likely cause, what changed and the next step.

Deterministic: the same context gives the same note. The AI summary, when there is one, is appended in its
own section marked as machine-generated; the note is complete without it.
"""

from __future__ import annotations

from .gather import Context

AI_HEADING = (
    "### AI summary (machine-generated: Amazon Bedrock, through the environment's guardrail; verify before acting)"
)


def title(ctx: Context, environment: str) -> str:
    """One line: the issue title and the SNS subject (ASCII, under 100 characters: deliver.MAX_SUBJECT_CHARS)."""
    who = f" {ctx.model.model} v{ctx.model.version}" if ctx.model else ""
    text = f"[triage {environment}] {ctx.alarm.name} {ctx.alarm.state}{who}"
    return text.encode("ascii", "replace").decode()[:99]


def likely_cause(ctx: Context) -> str:
    """A rule of thumb from the gathered facts, said as such."""
    alarm, rollout = ctx.alarm, ctx.rollout
    if alarm.kind == "drift":
        if ctx.drift:
            names = ", ".join(f"`{n}` ({s:.3g})" for n, s in ctx.drift[:3])
            return f"input drift: the latest monitoring report's most drifted features are {names}."
        return "input drift on the alarm's feature; no monitoring report with per-feature scores was found."
    if alarm.kind == "quality":
        return "model quality below its threshold against late-arriving labels" + (
            f"; input drift in {', '.join(f'`{n}`' for n, _ in ctx.drift[:3])} may explain it." if ctx.drift else "."
        )
    if rollout and rollout.in_progress:
        target = rollout.pending_config_name or "a new endpoint configuration"
        return (
            f"the rollout in progress (to `{target}`): a rollback alarm firing during a deployment usually means "
            "the new version is worse; SageMaker rolls back automatically while the alarm stays in ALARM."
        )
    changes = _changes(ctx)
    if changes:
        return "no rollout in progress; compared with the day and the week before: " + "; ".join(changes) + "."
    return "no rollout in progress and no marked change in traffic, errors or latency against the day and week before."


def _changes(ctx: Context) -> list[str]:
    out = []
    for variant, metrics in sorted(ctx.metrics.items()):
        for label, values in metrics.items():
            now = values.get("now")
            before = [v for k, v in values.items() if k != "now" and v is not None]
            if now is None or not before:
                continue
            reference = max(before)
            if (reference == 0 and now > 0) or (reference > 0 and now >= 2 * reference):
                out.append(f"{variant} {label} {_fmt(now)} vs {_fmt(reference)} at most before")
            elif label == "invocations" and reference > 0 and now <= reference / 2:
                out.append(f"{variant} traffic dropped to {_fmt(now)} from {_fmt(reference)}")
    return out


def render(ctx: Context, environment: str, ai_summary: str | None = None) -> str:
    a, m, r = ctx.alarm, ctx.model, ctx.rollout
    out = [f"## {title(ctx, environment)}", ""]
    out.append(
        "**What fired.** "
        + f"`{a.name}` went to {a.state} at {a.changed_at.strftime('%Y-%m-%d %H:%M UTC')}"
        + (f" on `{a.metric}`" if a.metric else "")
        + (f" ({a.comparison} {_fmt(a.threshold)})" if a.threshold is not None and a.comparison else "")
        + f": {a.reason}"
    )
    if m:
        out.append(
            f"**Model.** `{m.model}` version {m.version} (registry group `{m.registry_group}`), team "
            f"`{m.team}`, endpoint `{m.endpoint}`, rollout {m.rollout}."
        )
    out += ["", "**Likely cause.** " + likely_cause(ctx), "", "**What changed.**", "", *_what_changed(ctx)]
    if ctx.metrics:
        out += [
            "",
            "**Metrics** (window before the alarm, same window a day and a week earlier):",
            "",
            "| variant | metric | now | day before | week before |",
            "|---|---|---|---|---|",
        ]
        for variant, metrics in sorted(ctx.metrics.items()):
            for label, values in metrics.items():
                out.append(
                    f"| {variant} | {label} | {_fmt(values.get('now'))} | {_fmt(values.get('day before'))} "
                    f"| {_fmt(values.get('week before'))} |"
                )
    if ctx.drift:
        out += [
            "",
            f"**Top drifting features** (report `{ctx.report_key}`): "
            + ", ".join(f"`{n}` {s:.3g}" for n, s in ctx.drift),
        ]
    if ctx.history:
        out += ["", "**Alarm history** (newest first):", ""]
        out += [f"- {h['time']}: {h['summary']}" for h in ctx.history[:5]]
    out += ["", "**Next step.**", ""]
    if m:
        steps = m.runbook_stop_rollout if (r and r.in_progress) else m.runbook_rollback
        out += [f"Runbook: {m.runbook_url}", "", steps.strip()]
    else:
        out.append("Find the alarm's owner in the environment file; no runbook matches this alarm.")
    if ctx.gaps:
        out += ["", "**Not available:** " + "; ".join(ctx.gaps)]
    if ai_summary:
        out += ["", AI_HEADING, "", ai_summary.strip()]
    return "\n".join(out) + "\n"


def _what_changed(ctx: Context) -> list[str]:
    r = ctx.rollout
    out: list[str] = []
    if r:
        state = "a rollout is IN PROGRESS" if r.in_progress else "no rollout in progress"
        out.append(
            f"- Endpoint {r.status}: {state}; configuration `{r.config_name}`"
            + (f" -> `{r.pending_config_name}`" if r.pending_config_name else "")
            + (f"; last modified {r.last_modified}" if r.last_modified else "")
            + "."
        )
        for v in r.variants:
            out.append(
                f"- serving variant `{v['VariantName']}`: weight {_fmt(v['CurrentWeight'])}"
                f" (desired {_fmt(v['DesiredWeight'])}), instances {_fmt(v['CurrentInstanceCount'])}"
            )
        for v in r.pending:
            out.append(
                f"- new fleet `{v['VariantName']}`: weight {_fmt(v['CurrentWeight'])}"
                f" (desired {_fmt(v['DesiredWeight'])}), instances {_fmt(v['CurrentInstanceCount'])}"
                f"/{_fmt(v['DesiredInstanceCount'])}" + (f", {v['Status']}" if v["Status"] else "")
            )
        if r.failure_reason:
            out.append(f"- failure reason: {r.failure_reason}")
    out.append(
        f"- last deploy commit: `{ctx.deploy_commit}`"
        if ctx.deploy_commit
        else "- last deploy commit: not recorded (the stack sets it from stack config `deployCommit`)"
    )
    return out


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:.4g}"
    return str(value)
