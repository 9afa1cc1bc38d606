"""Validation of a training section's built-in images against the SDK's image table: a version the SDK
does not know, or one not published in the environment's region, is an input error (components/loader.py),
not a failure halfway through a plan.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components.sdk_images import builtin_image_uri

if TYPE_CHECKING:
    from components.config.training import Training


def image_problems(region: str, training: Training) -> list[tuple[str, str]]:
    """(field, message) for built-in image versions the SDK does not know or does not publish in region."""
    found: list[tuple[str, str]] = []
    for field, framework, version, own in (
        ("xgboost_version", "xgboost", training.xgboost_version, training.image),
        ("sklearn_version", "sklearn", training.sklearn_version, training.processing_image),
    ):
        if own is not None:
            continue  # the team's own image replaces the built-in one
        try:
            builtin_image_uri(framework, version, region)
        except ValueError as exc:
            found.append((field, f"{exc}; pick a listed version, or set your own image"))
    return found
