"""The one schema of `environments/<env>.yaml`. Everything that reads an environment goes through it."""

from components.config.base import Strict
from components.config.environment import (
    Environment,
    LoadedEnvironment,
    Model,
    Network,
    RegistryLocation,
    Team,
)
from components.config.finops import FinOps
from components.config.policies import Policies
from components.config.serving import Serving
from components.config.training import Training

__all__ = [
    "Environment",
    "FinOps",
    "LoadedEnvironment",
    "Model",
    "Network",
    "Policies",
    "RegistryLocation",
    "Serving",
    "Strict",
    "Team",
    "Training",
]
