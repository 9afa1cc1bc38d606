"""Components take only their own typed args: only the composition layer reads the environment file's types.

components/composition.py maps a `LoadedEnvironment` to each component's args; components/platform.py picks the
components an environment gets; components/loader.py and components/config/ define and load the file. Every other
module under components/ must be usable without an environment file, so it imports neither `Environment` nor
`LoadedEnvironment`, and the per-entry types `Model` and `Team` only where a component shows them whole.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMPONENTS = Path(__file__).resolve().parents[2] / "components"
COMPOSITION_LAYER = {"composition.py", "platform.py", "loader.py"}
WHOLE_ENVIRONMENT = {"Environment", "LoadedEnvironment"}
ENTRIES = {"Model", "Team"}
# The dashboards are a view of every team and model of an environment (DashboardSubject): they read the entries.
SHOWS_ENTRIES = {"dashboards.py"}


def imported_config_names(source: str) -> set[str]:
    """Names a module imports from components.config (or its submodules), TYPE_CHECKING blocks included, and
    `components.config...` itself when imported as a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("components.config"):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "components" and node.level == 0:
            names |= {f"components.{alias.name}" for alias in node.names if alias.name == "config"}
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names if alias.name.startswith("components.config")}
    return names


def component_modules(root: Path = COMPONENTS) -> list[Path]:
    """Every module under components/ but the composition layer and the environment file's models."""
    modules = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] != "config" and str(relative) not in COMPOSITION_LAYER:
            modules.append(path)
    return modules


def offenders(root: Path = COMPONENTS) -> dict[str, list[str]]:
    """Module -> the environment-file types it imports that it must not."""
    found_in: dict[str, list[str]] = {}
    for path in component_modules(root):
        name = str(path.relative_to(root))
        found = imported_config_names(path.read_text(encoding="utf-8"))
        bad = (found & WHOLE_ENVIRONMENT) | {n for n in found if n.startswith("components.config")}
        if name not in SHOWS_ENTRIES:
            bad |= found & ENTRIES
        if bad:
            found_in[name] = sorted(bad)
    return found_in


def test_no_component_module_reads_the_environment_file() -> None:
    assert offenders() == {}, "move the environment-to-args mapping to components/composition.py"


def test_a_factory_next_to_its_component_is_caught(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "environment.py").write_text("from components.config.base import Strict\n")
    (tmp_path / "platform.py").write_text("from components.config import LoadedEnvironment\n")
    (tmp_path / "widget.py").write_text("from components.config import LoadedEnvironment, Network, Team\n")
    (tmp_path / "dashboards.py").write_text("from components.config import Model, Team\n")
    assert offenders(tmp_path) == {"widget.py": ["LoadedEnvironment", "Team"]}


def test_the_modules_checked_are_the_components() -> None:
    checked = {str(p.relative_to(COMPONENTS)) for p in component_modules()}
    assert {"serving.py", "alerting.py", "triage.py", "dashboards.py", "jobs/drift_job.py"} <= checked
    assert not checked & {"composition.py", "platform.py", "loader.py", "config/environment.py"}


@pytest.mark.parametrize(
    ("source", "found"),
    [
        ("from components.config import LoadedEnvironment, Network", {"LoadedEnvironment", "Network"}),
        ("from components.config.environment import Environment as E", {"Environment"}),
        ("import typing\nif typing.TYPE_CHECKING:\n    from components.config import Model\n", {"Model"}),
        ("import components.config.environment", {"components.config.environment"}),
        ("from components import config", {"components.config"}),
        ("from components.serving import ModelEndpointArgs", set()),
    ],
)
def test_the_import_reader_sees_every_form(source: str, found: set[str]) -> None:
    assert imported_config_names(source) == found
