"""Where things live in an environment's artifact bucket: the one contract between writers and readers.

Training pipelines write under `pipelines/<model>/` (their model artifacts under `.../models/`); the
endpoint's execution role reads exactly that model-artifact prefix in the bucket of the environment that
hosts the registry (where dev-trained versions are registered).

Baselines: a pipeline execution writes its data-quality baseline under `baselines/<execution id>/`
(the version number does not exist yet); when a person approves the version, components/baselines.py
copies it to `baselines/v<version>/`, where the version's monitors read it (components/monitoring.py).
"""

from __future__ import annotations


def pipeline_prefix(model: str) -> str:
    """Everything a model's training pipeline writes: features, checkpoints, evaluation, model artifacts."""
    return f"pipelines/{model}/"


def model_artifacts_prefix(model: str) -> str:
    """The trained model artifacts (model.tar.gz per training job) that serving reads."""
    return f"{pipeline_prefix(model)}models/"


def baselines_prefix(model: str) -> str:
    """Monitoring baselines of the model's registered versions (components/monitoring.py reads them)."""
    return f"{pipeline_prefix(model)}baselines/"


# Sub-folder of one baseline kind (statistics.json and constraints.json), the same under an execution's
# and under a version's folder.
DATA_QUALITY = "data-quality"
MODEL_QUALITY = "model-quality"
# Customer metadata key, on each version a pipeline registers, naming the pipeline execution whose
# baselines folder holds the version's baselines.
EXECUTION_METADATA_KEY = "execution"
# The files of a version's data-quality folder: what a Model Monitor baselining job writes and the model-monitor
# engine reads, and the reference data (the prepared features, CSV with a header) the training pipeline's
# preparation step writes and the evidently engine's drift job compares with
# (components/jobs/metrics_contract.REFERENCE_FILE).
BASELINE_FILES = ("statistics.json", "constraints.json", "reference.csv")


def execution_baselines_prefix(model: str, execution_id: str) -> str:
    """Where one pipeline execution writes its baselines (ends in '/')."""
    return f"{baselines_prefix(model)}{execution_id}/"


def version_baselines_prefix(model: str, version: int | str) -> str:
    """Where one registered version's baselines live once approved (ends in '/')."""
    return f"{baselines_prefix(model)}v{version}/"
