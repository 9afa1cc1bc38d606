"""Where things live in an environment's artifact bucket: the one contract between writers and readers.

Training pipelines write under `pipelines/<model>/` (their model artifacts under `.../models/`); the
endpoint's execution role reads exactly that model-artifact prefix in the bucket of the environment that
hosts the registry (where dev-trained versions are registered).
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
