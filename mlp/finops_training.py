"""The training-pipeline half of `mlp finops advise`: managed spot for a pipeline that trains on-demand, back to
on-demand for spot that does not pay, and a smaller training instance for jobs that leave theirs idle — each
with its evidence, its monthly saving in USD at the committed training prices (`sagemaker-training` in
mlp/data/prices.json) and the environment-file change `--pr` writes (`models[<model>].training.<field>`).

What is read, per model with `training:` (pipeline `<env>-<model>-training`), for the executions of the last N
days, read-only:

- `sagemaker:ListPipelineExecutions`, `ListPipelineExecutionSteps` (Metadata.TrainingJob.Arn) and
  `DescribeTrainingJob`: TrainingTimeInSeconds, BillableTimeInSeconds, EnableManagedSpotTraining,
  ResourceConfig, TrainingStartTime/EndTime and the `Interrupted` secondary-status transitions. Billable time
  x InstanceCount is the compute SageMaker bills, and the managed-spot saving is 1 - billable / training time
  (botocore's sagemaker service model, DescribeTrainingJobResponse.BillableTimeInSeconds, read 2026-11-30).
- CloudWatch `/aws/sagemaker/TrainingJobs` `CPUUtilization`, `MemoryUtilization` and `GPUUtilization`
  (Maximum, one-hour periods over the job's run) with dimension `Host` = `<training-job-name>/algo-<n>`, one per
  instance n. CPUUtilization is summed over the instance's cores (0-100% each) and GPUUtilization over its GPUs
  (SageMaker developer guide, "Monitor Amazon SageMaker with Amazon CloudWatch", section "SageMaker Jobs and
  Endpoint Metrics"; awsdocs/amazon-sagemaker-developer-guide doc_source/monitoring-cloudwatch.md, read
  2026-11-30).

Monthly figures scale what the window measured by (hours per month / 24) / N days. A pipeline needs
`TRAINING_MIN_RUNS` runs in the window before anything is proposed for it.

- **spot-training**: the file trains on-demand (`spot: false`), outside production — or in a production
  environment where another pipeline already trains on spot (it has accepted spot's waits there). Saving: the
  measured monthly on-demand cost x the spot saving ratio, measured over the environment's spot runs in the
  window when there are any, else `finops.spot_savings_assumption_percent` (the environment's own assumption,
  said so); unknown when neither gives a ratio or the training price is missing. Sets `spot: true` (spot comes
  with checkpoints to S3 and resumes from them: components/pipeline_definition.py) and, when
  `max_wait_minutes` is below `max_runtime_minutes` (invalid with spot: components/config/training.py),
  `max_wait_minutes` = `SPOT_WAIT_FACTOR` x `max_runtime_minutes`.
- **on-demand-training**: the file trains on spot and the spot runs' billed time is at least what the same runs
  take on-demand: runs x the median training time of the runs without an interruption (or, when every run was
  interrupted, the shortest run's: interruptions only add time, so that is an upper bound and the saving a
  lower one). Saving: the difference in instance-hours x the training price. Sets `spot: false`.
- **smaller-training-instance**: m5/c5/r5 sizes with a smaller SageMaker training size (`smaller()` against
  botocore's TrainingInstanceType enum), every run's CPU peak (divided by the vCPUs) and memory peak below
  `RIGHTSIZE_PEAK_PERCENT` (the endpoint rule: at half the size they stay below twice that), and the longest run
  at most `TRAINING_RUNTIME_HEADROOM` of `max_runtime_minutes`. Saving: billed instance-hours per month x (price
  now - price of the smaller size), assuming a run takes as long on the smaller size (said so: if it slows
  down, the saving shrinks); unknown when a price is missing. Sets `instance_type`.

Two proposals for one pipeline (spot and a smaller size) overlap: each saving is computed against today's
setting. Everything else is left alone, with the reason, in the pipeline's line of the report.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, replace
from typing import Any

from components.config import LoadedEnvironment, Model
from components.config.sagemaker_api import instance_types
from components.config.training import MAX_RUNTIME_MINUTES, Training
from components.naming import SAGEMAKER_PIPELINE, physical_name
from mlp.finops_proposals import PERIOD_SECONDS, RIGHTSIZE_PEAK_PERCENT, Change, Proposal, smaller, vcpus
from mlp.pricing import TRAINING, PriceBook

TRAINING_MIN_RUNS = 3
"""Our threshold: fewer runs in the window are an anecdote, not a pattern to change every future run by."""
SPOT_WAIT_FACTOR = 2
"""max_wait_minutes = this x max_runtime_minutes when spot is proposed and the wait is too short: the ratio of
the code defaults (240 and 120 minutes, components/config/training.py)."""
TRAINING_RUNTIME_HEADROOM = 0.5
"""Our threshold: the longest run must fit twice in max_runtime_minutes before a smaller (maybe slower) size is
proposed, so a run that slows down on it still finishes."""
TRAINING_NAMESPACE = "/aws/sagemaker/TrainingJobs"


@dataclass(frozen=True)
class TrainingRun:
    seconds: float
    """TrainingTimeInSeconds."""
    billable_seconds: float
    """BillableTimeInSeconds (0 when DescribeTrainingJob gave none)."""
    interruptions: int
    spot: bool
    job: str = ""
    instance_type: str = ""
    instance_count: int = 1
    started: dt.datetime | None = None
    ended: dt.datetime | None = None
    cpu_max_percent: float | None = None
    """CPUUtilization Maximum over the job's instances (summed over cores); None: no data point."""
    memory_max_percent: float | None = None
    gpu_max_percent: float | None = None

    @property
    def billed_instance_seconds(self) -> float:
        """What SageMaker bills: billable time x instances (training time when no billable time was given)."""
        return (self.billable_seconds or self.seconds) * self.instance_count


def measured_spot_saving(runs: list[TrainingRun]) -> float | None:
    """Spot's saving as the runs measured it, 1 - BillableTimeInSeconds / TrainingTimeInSeconds over their spot
    runs; None without a spot run with a training time."""
    spot = [r for r in runs if r.spot and r.seconds]
    return 1 - sum(r.billable_seconds for r in spot) / sum(r.seconds for r in spot) if spot else None


def billed_hours(runs: list[TrainingRun]) -> float:
    """The instance-hours SageMaker billed for the runs."""
    return sum(r.billed_instance_seconds for r in runs) / 3600


def read_training(sagemaker: Any, pipeline: str, start: dt.datetime) -> list[TrainingRun] | None:
    """The training jobs the pipeline's executions since `start` ran; None when the pipeline does not exist."""
    from botocore.exceptions import ClientError

    pages = sagemaker.get_paginator("list_pipeline_executions").paginate(PipelineName=pipeline, CreatedAfter=start)
    try:
        executions = [e for page in pages for e in page.get("PipelineExecutionSummaries", [])]
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("ResourceNotFound", "ValidationException"):
            return None
        raise
    runs = []
    for execution in executions:
        steps = sagemaker.list_pipeline_execution_steps(PipelineExecutionArn=execution["PipelineExecutionArn"])
        for step in steps.get("PipelineExecutionSteps", []):
            arn = ((step.get("Metadata") or {}).get("TrainingJob") or {}).get("Arn")
            if not arn:
                continue
            name = str(arn).rsplit("/", 1)[-1]
            job = sagemaker.describe_training_job(TrainingJobName=name)
            transitions = job.get("SecondaryStatusTransitions") or []
            resources = job.get("ResourceConfig") or {}
            runs.append(
                TrainingRun(
                    seconds=float(job.get("TrainingTimeInSeconds") or 0),
                    billable_seconds=float(job.get("BillableTimeInSeconds") or 0),
                    interruptions=sum(1 for t in transitions if t.get("Status") == "Interrupted"),
                    spot=bool(job.get("EnableManagedSpotTraining")),
                    job=name,
                    instance_type=str(resources.get("InstanceType") or ""),
                    instance_count=int(resources.get("InstanceCount") or 1),
                    started=job.get("TrainingStartTime") or job.get("CreationTime"),
                    ended=job.get("TrainingEndTime"),
                )
            )
    return runs


def read_utilization(cloudwatch: Any, run: TrainingRun, now: dt.datetime) -> TrainingRun:
    """The run with its CPU, memory and GPU peaks over its instances (`Host` <job>/algo-1..N), hourly Maximum."""
    if not run.job:
        return run
    begin = (run.started or now - dt.timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    end = (run.ended or now).replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)

    def peak(metric: str) -> float | None:
        values = [
            float(point["Maximum"])
            for n in range(1, run.instance_count + 1)
            for point in cloudwatch.get_metric_statistics(
                Namespace=TRAINING_NAMESPACE,
                MetricName=metric,
                Dimensions=[{"Name": "Host", "Value": f"{run.job}/algo-{n}"}],
                StartTime=begin,
                EndTime=end,
                Period=PERIOD_SECONDS,  # a job runs at most 28 days: 672 hourly points, under the 1,440 per call
                Statistics=["Maximum"],
            )["Datapoints"]
        ]
        return max(values) if values else None

    return replace(
        run,
        cpu_max_percent=peak("CPUUtilization"),
        memory_max_percent=peak("MemoryUtilization"),
        gpu_max_percent=peak("GPUUtilization"),
    )


def training_observation(
    env: LoadedEnvironment, model: Model, runs: list[TrainingRun] | None, days: int, prices: PriceBook
) -> str:
    """What the model's training pipeline did in the window, in one line."""
    pipeline = physical_name(SAGEMAKER_PIPELINE, env.name, model.name, "training")
    training = model.training
    if training is None:
        return ""
    if runs is None:
        return f"{pipeline}: not found in the account (not deployed yet?)"
    if not runs:
        return f"{pipeline}: no training run in {days} days"
    longest = max(r.seconds for r in runs) / 60
    parts = [
        f"{len(runs)} training run(s) in {days} days",
        f"longest {longest:.0f} min of max_runtime_minutes {training.max_runtime_minutes}",
    ]
    measured = measured_spot_saving(runs)
    if measured is not None:
        spot = [r for r in runs if r.spot and r.seconds]
        parts.append(
            f"spot: {sum(r.interruptions for r in spot)} interruption(s), saving measured {measured:.0%} "
            f"(assumed {env.finops.spot_savings_assumption_percent}%)"
        )
    price = prices.lookup(env.region, TRAINING, training.instance_type)
    billable_hours = sum(r.billable_seconds for r in runs) / 3600 * training.instance_count
    per_month = prices.hours_per_month / 24 / days
    if price is None:
        parts.append(f"{billable_hours:.1f} billable instance-hours (no training price for {training.instance_type})")
    else:
        monthly = billable_hours * price.usd_per_unit * per_month
        parts.append(f"about {monthly:,.2f} USD/month at {price.usd_per_unit} USD/h")
    return f"{pipeline}: " + "; ".join(parts)


@dataclass(frozen=True)
class _Pipeline:
    """One model's training pipeline and what it ran in the window."""

    env: LoadedEnvironment
    model: Model
    training: Training
    name: str
    runs: list[TrainingRun]
    days: int
    prices: PriceBook

    @property
    def per_month(self) -> float:
        """Window-to-month factor: (hours per month / 24) / days."""
        return self.prices.hours_per_month / 24 / self.days

    def price(self, instance_type: str) -> float | None:
        found = self.prices.lookup(self.env.region, TRAINING, instance_type)
        return None if found is None else found.usd_per_unit

    def change(self, field: str, old: Any, new: Any) -> Change:
        """A change of models[<model>].training.<field>; added when the file leaves the key to its default."""
        return Change(self.model.name, field, old, new, "training", field not in self.training.model_fields_set)

    def proposal(
        self, kind: str, summary: str, evidence: list[str], saving: float | None, *changes: Change
    ) -> Proposal:
        return Proposal(self.model.name, self.name, kind, summary, tuple(evidence), saving, changes[0], changes[1:])


def advise_training(
    env: LoadedEnvironment,
    days: int,
    prices: PriceBook,
    sagemaker: Any,
    cloudwatch: Any,
    *,
    now: dt.datetime | None = None,
    production: bool,
) -> tuple[list[Proposal], list[str]]:
    """The training proposals of the environment, and one line per pipeline: what it ran and what was left alone."""
    end = now or dt.datetime.now(dt.UTC)
    start = end - dt.timedelta(days=days)
    read: list[tuple[Model, list[TrainingRun] | None]] = []
    for model in env.models:
        if model.training is None:
            continue
        runs = read_training(sagemaker, physical_name(SAGEMAKER_PIPELINE, env.name, model.name, "training"), start)
        read.append((model, None if runs is None else [read_utilization(cloudwatch, r, end) for r in runs]))
    # Spot's saving as measured across the whole environment (every pipeline's spot runs in the window).
    measured = measured_spot_saving([r for _, runs in read for r in runs or []])
    spot_elsewhere = any(m.training is not None and m.training.spot for m in env.models)
    proposals: list[Proposal] = []
    lines: list[str] = []
    for model, runs in read:
        assert model.training is not None  # read only models with training
        line = training_observation(env, model, runs, days, prices)
        if not runs:
            lines.append(line)
            continue
        name = physical_name(SAGEMAKER_PIPELINE, env.name, model.name, "training")
        pipeline = _Pipeline(env, model, model.training, name, runs, days, prices)
        found: list[Proposal] = []
        kept: list[str] = []
        if len(runs) < TRAINING_MIN_RUNS:
            kept.append(f"{len(runs)} run(s) in {days} days, fewer than {TRAINING_MIN_RUNS}: too few to judge")
        else:
            if pipeline.training.spot:
                _collect(_on_demand(pipeline), found, kept)
            else:
                allowed = not production or spot_elsewhere
                _collect(_spot(pipeline, measured, allowed=allowed), found, kept)
            _collect(_smaller(pipeline), found, kept)
        proposals += found
        if found:
            line += "; proposed: " + ", ".join(p.kind for p in found)
        if kept:
            line += "; left alone: " + "; ".join(kept)
        lines.append(line)
    return proposals, lines


def _collect(result: Proposal | str, found: list[Proposal], kept: list[str]) -> None:
    if isinstance(result, Proposal):
        found.append(result)
    else:
        kept.append(result)


def _billed(pipeline: _Pipeline, runs: list[TrainingRun]) -> str:
    hours = billed_hours(runs)
    return f"{len(runs)} run(s) in {pipeline.days} days, {hours:.2f} billed instance-hours (BillableTimeInSeconds)"


def _spot(pipeline: _Pipeline, measured: float | None, *, allowed: bool) -> Proposal | str:
    """Managed spot for a pipeline that trains on-demand; the reason it is left alone otherwise."""
    training = pipeline.training
    if not allowed:
        return (
            "on-demand kept: a production environment none of whose pipelines trains on spot "
            "(spot may delay a retraining by up to max_wait_minutes)"
        )
    instance = training.instance_type
    runs = pipeline.runs
    hours = billed_hours(runs) * pipeline.per_month
    evidence = [_billed(pipeline, runs)]
    price = pipeline.price(instance)
    assumed = pipeline.env.finops.spot_savings_assumption_percent
    if measured is not None:
        ratio: float | None = measured
        evidence.append(
            f"spot saving ratio {measured:.0%}: measured over the environment's spot runs in the window "
            "(1 - BillableTimeInSeconds / TrainingTimeInSeconds)"
        )
    elif assumed:
        ratio = assumed / 100
        evidence.append(
            f"spot saving ratio {assumed}%: finops.spot_savings_assumption_percent, the environment's own "
            "assumption (no spot run in the window to measure one)"
        )
    else:
        ratio = None
        evidence.append("saving unknown: no spot run in the window and finops.spot_savings_assumption_percent is 0")
    saving = None
    if price is None:
        evidence.append(f"saving unknown: no training price for {instance} in {pipeline.env.region}")
    elif ratio is not None:
        saving = hours * price * ratio
        evidence.append(
            f"on-demand today: {hours:.2f} instance-hours/month x {price} USD/h = {hours * price:,.2f} USD/month "
            f"(prices in {pipeline.prices.path.name})"
        )
    changes = [pipeline.change("spot", False, True)]
    if training.max_wait_minutes < training.max_runtime_minutes:
        wait = min(MAX_RUNTIME_MINUTES, SPOT_WAIT_FACTOR * training.max_runtime_minutes)
        changes.append(pipeline.change("max_wait_minutes", training.max_wait_minutes, wait))
    wait_minutes = changes[-1].new if len(changes) > 1 else training.max_wait_minutes
    evidence.append(
        "spot checkpoints to S3 and resumes after an interruption; a run may take up to "
        f"max_wait_minutes {wait_minutes} with its waits for capacity"
    )
    return pipeline.proposal(
        "spot-training", f"train {pipeline.model.name} on managed spot", evidence, saving, *changes
    )


def _on_demand(pipeline: _Pipeline) -> Proposal | str:
    """Back to on-demand for a spot pipeline whose billed time is at least the on-demand time; else why not."""
    runs = [r for r in pipeline.runs if r.spot and r.seconds]
    if len(runs) < TRAINING_MIN_RUNS:
        return f"spot: {len(runs)} spot run(s) with a training time, fewer than {TRAINING_MIN_RUNS}"
    calm = [r.seconds for r in runs if not r.interruptions]
    if calm:
        duration = statistics.median(calm)
        how = f"the median training time of the {len(calm)} run(s) without an interruption"
    else:
        duration = min(r.seconds for r in runs)
        how = "the shortest run's training time (every run was interrupted: an upper bound)"
    count = sum(r.instance_count for r in runs) / len(runs)  # each run's own ResourceConfig.InstanceCount
    on_demand = len(runs) * duration * count / 3600
    billed = billed_hours(runs)
    interruptions = sum(r.interruptions for r in runs)
    if billed < on_demand:
        return (
            f"spot kept: {billed:.2f} billed instance-hours against {on_demand:.2f} on-demand "
            f"({interruptions} interruption(s) in {len(runs)} runs)"
        )
    instance = pipeline.training.instance_type
    price = pipeline.price(instance)
    monthly = (billed - on_demand) * pipeline.per_month
    evidence = [
        _billed(pipeline, runs),
        f"{interruptions} interruption(s) in {len(runs)} runs (SecondaryStatusTransitions Interrupted)",
        f"on-demand: {len(runs)} runs x {duration / 60:.0f} min x {count:g} instance(s) = {on_demand:.2f} "
        f"instance-hours, from {how}",
    ]
    if price is None:
        evidence.append(f"saving unknown: no training price for {instance} in {pipeline.env.region}")
    else:
        evidence.append(f"{monthly:.2f} instance-hours/month fewer x {price} USD/h")
    return pipeline.proposal(
        "on-demand-training",
        f"train {pipeline.model.name} on-demand: spot costs more than it saves",
        evidence,
        None if price is None else monthly * price,
        pipeline.change("spot", True, False),
    )


def _smaller(pipeline: _Pipeline) -> Proposal | str:
    """A smaller training instance when every run left the instance idle enough; else why not."""
    training = pipeline.training
    instance = training.instance_type
    target = smaller(instance, instance_types("TrainingInstanceType"))
    cpus = vcpus(instance)
    if target is None or cpus is None:
        return f"size kept: {instance} is not an m5, c5 or r5 size with a smaller training size"
    runs = [r for r in pipeline.runs if r.instance_type in ("", instance)]
    measured = [r for r in runs if r.cpu_max_percent is not None and r.memory_max_percent is not None]
    if len(measured) < TRAINING_MIN_RUNS:
        return (
            f"size kept: CPU and memory data for {len(measured)} run(s) on {instance}, fewer than {TRAINING_MIN_RUNS}"
        )
    cpu = max(r.cpu_max_percent or 0.0 for r in measured) / cpus
    memory = max(r.memory_max_percent or 0.0 for r in measured)
    longest = max(r.seconds for r in runs) / 60
    figures = [
        f"CPU peak {cpu:.1f}% of {cpus} vCPUs and memory peak {memory:.1f}% over {len(measured)} runs "
        f"({TRAINING_NAMESPACE} CPUUtilization, MemoryUtilization Maximum)",
        f"longest run {longest:.0f} min of max_runtime_minutes {training.max_runtime_minutes}",
    ]
    gpu = [r.gpu_max_percent for r in measured if r.gpu_max_percent is not None]
    if gpu:
        figures.append(f"GPU peak {max(gpu):.1f}%")
    if cpu >= RIGHTSIZE_PEAK_PERCENT or memory >= RIGHTSIZE_PEAK_PERCENT:
        return f"size kept: busy ({figures[0]})"
    if longest > TRAINING_RUNTIME_HEADROOM * training.max_runtime_minutes:
        return f"size kept: {figures[1]}, no room for a slower run"
    hours = billed_hours(runs) * pipeline.per_month
    now, then = pipeline.price(instance), pipeline.price(target)
    saving = None if now is None or then is None else hours * (now - then)
    missing = instance if now is None else target
    evidence = [
        _billed(pipeline, runs),
        *figures,
        f"{hours:.2f} instance-hours/month x ({instance} - {target}) at the prices in {pipeline.prices.path.name}, "
        "assuming a run takes as long on the smaller size"
        if saving is not None
        else f"saving unknown: no training price for {missing} in {pipeline.env.region}",
    ]
    return pipeline.proposal(
        "smaller-training-instance",
        f"train {pipeline.model.name} on {target} instead of {instance}",
        evidence,
        saving,
        pipeline.change("instance_type", instance, target),
    )
