"""KServe's v1beta1 InferenceService schema, derived from the `kserve` package's model classes.

The `kserve` wheel carries the API as generated model classes (`kserve/models/v1beta1_*.py`): each class
lists its fields with their types (`openapi_types`), their JSON names (`attribute_map`), and its setters
refuse `None` for required fields. Installing `kserve` to import them would pull a model server's
dependencies (FastAPI, gRPC, pandas 2 over this project's pandas 3, protobuf 6), so the classes are read
as source here, once, and turned into a JSON Schema (draft 2020-12) kept next to the tests:

    uvx pip download --no-deps kserve==0.21.0 -d /tmp/kserve
    uv run python -m tests.components.kserve_schema /tmp/kserve/kserve-0.21.0-py3-none-any.whl 1.33

Every KServe object forbids unknown fields (the API server would silently prune them, so a typo would
vanish); Kubernetes types (ObjectMeta, ResourceRequirements, ...) refer to the strict schemas that
`kubernetes-validate` ships for the targeted version.
"""

from __future__ import annotations

import ast
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

import kubernetes_validate
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_PATH = Path(__file__).parent / "data" / "kserve-v1beta1-inferenceservice.schema.json"
K8S_DEFINITIONS_ID = "https://kubernetes.io/api/_definitions.json"
ROOT = "V1beta1InferenceService"
PRIMITIVES: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "datetime": {"type": "string"},
    "object": {},
}


def k8s_definitions(version: str) -> dict[str, Any]:
    """The strict Kubernetes definitions kubernetes-validate ships for a version (e.g. "1.33")."""
    path = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{version}.0-local-strict"
    return dict(json.loads((path / "_definitions.json").read_text()))


def _classes(wheel: Path) -> dict[str, tuple[dict[str, str], dict[str, str], set[str]]]:
    """Class name -> (openapi_types, attribute_map, required attributes) of every KServe model class."""
    found: dict[str, tuple[dict[str, str], dict[str, str], set[str]]] = {}
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            if not re.fullmatch(r"kserve/models/[a-z0-9_]+\.py", name):
                continue
            source = zf.read(name).decode()
            for node in ast.parse(source).body:
                if not isinstance(node, ast.ClassDef):
                    continue
                tables: dict[str, dict[str, str]] = {}
                for stmt in node.body:
                    if not isinstance(stmt, ast.Assign):
                        continue
                    target = stmt.targets[0]
                    if isinstance(target, ast.Name) and target.id in ("openapi_types", "attribute_map"):
                        tables[target.id] = ast.literal_eval(stmt.value)
                required = set(re.findall(r"Invalid value for `(\w+)`, must not be `None`", source))
                found[node.name] = (tables["openapi_types"], tables["attribute_map"], required)
    return found


def _k8s_index(definitions: dict[str, Any]) -> dict[str, str]:
    """Python client class names (V1ObjectMeta, K8sIoApiAppsV1DeploymentStrategy) -> definition keys."""
    index: dict[str, str] = {}
    for key in definitions["$defs"]:
        parts = key.split(".")
        kind, version = parts[-1], parts[-2]
        short = version[0].upper() + version[1:] + kind
        # Prefer core/v1 and meta/v1 for the short names, as the kubernetes Python client does.
        if short not in index or ".core." in key or ".meta." in key:
            index[short] = key
        if key.startswith("io.k8s.api."):
            group = "".join(p[0].upper() + p[1:] for p in parts[3:-1])
            index[f"K8sIoApi{group}{kind}"] = key
    index["ResourceQuantity"] = "io.k8s.apimachinery.pkg.api.resource.Quantity"
    return index


def generate(wheel: Path, version: str) -> dict[str, Any]:
    classes = _classes(wheel)
    k8s = _k8s_index(k8s_definitions(version))
    defs: dict[str, Any] = {}
    todo = [ROOT]
    unknown: set[str] = set()

    def convert(type_name: str) -> dict[str, Any]:
        if type_name in PRIMITIVES:
            return dict(PRIMITIVES[type_name])
        if match := re.fullmatch(r"list\[(.+)\]", type_name):
            return {"type": "array", "items": convert(match.group(1))}
        if match := re.fullmatch(r"dict\(str, (.+)\)", type_name):
            return {"type": "object", "additionalProperties": convert(match.group(1))}
        if type_name in classes:
            todo.append(type_name)
            return {"$ref": f"#/$defs/{type_name}"}
        if type_name in k8s:
            return {"$ref": f"{K8S_DEFINITIONS_ID}#/$defs/{k8s[type_name]}"}
        if re.fullmatch(r"(V\d\w*|K8sIo\w+)", type_name):
            # A Kubernetes type newer than the targeted version: listed, accepted as anything.
            unknown.add(type_name)
            return {}
        raise ValueError(f"unknown type {type_name!r} in the kserve models")

    while todo:
        name = todo.pop()
        if name in defs:
            continue
        defs[name] = {}  # placeholder against cycles
        types, json_names, required = classes[name]
        properties = {
            json_names[attr]: convert(type_name)
            for attr, type_name in sorted(types.items())
            if not (name == ROOT and attr == "status")  # written by the controller, never by us
        }
        schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
        if required:
            schema["required"] = sorted(json_names[a] for a in required)
        defs[name] = schema
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$comment": (
            f"Generated by tests/components/kserve_schema.py from {wheel.name} (model classes "
            f"kserve/models/v1beta1_*.py), Kubernetes types from kubernetes-validate v{version}; "
            f"not in that version, so accepted as anything: {', '.join(sorted(unknown)) or 'none'}."
        ),
        "$ref": f"#/$defs/{ROOT}",
        "$defs": dict(sorted(defs.items())),
    }


def validator(version: str) -> Draft202012Validator:
    """A validator of InferenceService manifests against the stored schema and the Kubernetes types."""
    schema = json.loads(SCHEMA_PATH.read_text())
    registry: Registry[Any] = Resource.from_contents(k8s_definitions(version)) @ Registry()
    return Draft202012Validator(schema, registry=registry)


if __name__ == "__main__":
    wheel_path, k8s_version = Path(sys.argv[1]), sys.argv[2]
    SCHEMA_PATH.parent.mkdir(exist_ok=True)
    SCHEMA_PATH.write_text(json.dumps(generate(wheel_path, k8s_version), indent=1, sort_keys=True) + "\n")
    print(f"wrote {SCHEMA_PATH}")
