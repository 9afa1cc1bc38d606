"""components/config/sagemaker_api.py: SageMaker's value lists, read from botocore's files directly."""

from __future__ import annotations

import subprocess
import sys

import botocore.session
import pytest

from components.config.sagemaker_api import instance_types

SHAPES = ("TrainingInstanceType", "ProcessingInstanceType", "ProductionVariantInstanceType")


@pytest.mark.parametrize("shape", SHAPES)
def test_instance_types_are_botocores_own(shape: str) -> None:
    """Reading the package's data file gives exactly what botocore's service model says, in its order."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    assert instance_types(shape) == tuple(model.shape_for(shape).enum)
    assert "ml.m5.xlarge" in instance_types(shape)


def test_an_unknown_shape_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        instance_types("NoSuchInstanceType")


def test_validating_an_environment_does_not_import_botocore() -> None:
    """The point of the module: validating an environment file reads the data file, nothing more."""
    code = (
        "import sys\n"
        "from components.loader import load_environment\n"
        "load_environment('prod')\n"
        "print('botocore' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
