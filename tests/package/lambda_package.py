"""Each function of a bundled cloud assembly as Lambda would lay it out: its code asset at /var/task, its layers
at /opt/python, the runtime's own boto3 after them, and its environment from the template.

The template names the Powertools layer by an SSM parameter that CloudFormation resolves at deploy time, so
its content is installed here instead, for the functions' runtime, at the versions requirements-dev.txt
pins; pip's --target folders are kept under .tools/ between test runs."""

import glob
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra import constants as c
from infra.constants import ROOT

RUNTIME = "3.13"
CACHE = ROOT / ".tools" / f"lambda-python{RUNTIME}"
# The public layer ships Powertools with every extra and pydantic; the runtime ships boto3.
LAYER_AND_RUNTIME = ("aws-lambda-powertools", "pydantic", "boto3")


@dataclass(frozen=True)
class FunctionPackage:
    logical_id: str
    handler: str
    path: list[Path]  # sys.path as Lambda builds it: /var/task, then the layers, then the runtime's packages
    environment: dict[str, str]


def python() -> Path | None:
    """An interpreter of the functions' runtime version: pyenv's, as CI machines have it, if there is one."""
    try:
        prefix = subprocess.run(["pyenv", "prefix", RUNTIME], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        found = sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{RUNTIME}*")))
        prefix = found[-1] if found else ""
    interpreter = Path(prefix) / "bin" / "python3"
    return interpreter if prefix and interpreter.is_file() else None


def _pinned(names: tuple[str, ...]) -> list[str]:
    pins = {}
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        name, _, version = line.partition("==")
        pins[name.strip()] = version.strip()
    return [f"{name}=={pins[name]}" for name in names]


def layer_and_runtime() -> Path:
    """The Powertools layer's packages and the runtime's boto3, installed once per set of versions."""
    requirements = _pinned(LAYER_AND_RUNTIME)
    # The layer is installed with all its extras, as AWS builds it.
    requirements[0] = requirements[0].replace("==", "[all]==")
    target = CACHE / "-".join(r.replace("[all]", "") for r in requirements)
    if target.is_dir():
        return target
    partial = target.with_name(target.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--target",
            str(partial),
            *("--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64"),
            *("--implementation", "cp", "--python-version", RUNTIME, "--only-binary=:all:"),
            *requirements,
        ],
        check=True,
    )
    # Renamed only once complete, so an interrupted install is never taken for a finished one.
    partial.rename(target)
    return target


def _asset_folders(assembly: Path, stack: str) -> dict[str, Path]:
    """Each file asset's folder, by the S3 key the template names it by."""
    files = json.loads((assembly / f"{stack}.assets.json").read_text())["files"]
    found = {}
    for asset in files.values():
        for destination in asset["destinations"].values():
            found[destination["objectKey"]] = assembly / asset["source"]["path"]
    return found


def function_packages(assembly: Path, stack: str, environment: dict[str, dict[str, str]]) -> list[FunctionPackage]:
    """Every function of the template; environment holds each one's variables, resolved, by logical id."""
    template: dict[str, Any] = json.loads((assembly / f"{stack}.template.json").read_text())
    resources, parameters = template["Resources"], template.get("Parameters", {})
    assets = _asset_folders(assembly, stack)
    runtime_packages = layer_and_runtime()
    packages = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        props = resource["Properties"]
        if props.get("Runtime") != f"python{RUNTIME}":
            raise ValueError(f"{logical_id} runs on {props.get('Runtime')}: this test knows python{RUNTIME} only")
        layers = []
        for layer in props.get("Layers", []):
            name = layer["Ref"]
            if name in parameters and parameters[name].get("Default") == c.POWERTOOLS_LAYER_PARAMETER:
                layers.append(runtime_packages)
            elif resources.get(name, {}).get("Type") == "AWS::Lambda::LayerVersion":
                layers.append(assets[resources[name]["Properties"]["Content"]["S3Key"]] / "python")
            else:
                raise ValueError(f"{logical_id}: layer {name} is neither the Powertools layer nor the stack's own")
        # Lambda extracts the layers into /opt in their order, a later one's files over an earlier one's.
        path = [assets[props["Code"]["S3Key"]], *reversed(layers), runtime_packages]
        packages.append(FunctionPackage(logical_id, props["Handler"], path, environment[logical_id]))
    return packages


# Run by the runtime's interpreter with -I -S: neither this machine's site-packages nor PYTHONPATH (which -I
# ignores) are seen, so the search path is set here, in Lambda's order, before the handler is imported.
IMPORT_HANDLER = """
import importlib, json, sys
path, handler = json.loads(sys.argv[1]), sys.argv[2]
sys.path[:0] = path
module, _, name = handler.rpartition(".")
if not callable(getattr(importlib.import_module(module), name)):
    sys.exit(f"{handler} is not callable")
"""


def import_handler(interpreter: Path, package: FunctionPackage, region: str) -> subprocess.CompletedProcess[str]:
    """Import the function's handler as Lambda's runtime would at a cold start (no AWS call is made)."""
    lambda_environment = {
        # What Lambda itself sets, as far as an import may read it.
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_LAMBDA_FUNCTION_NAME": package.logical_id,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{RUNTIME}",
        "LAMBDA_TASK_ROOT": str(package.path[0]),
        "_HANDLER": package.handler,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
    }
    return subprocess.run(
        [
            str(interpreter),
            "-I",
            "-S",
            "-c",
            IMPORT_HANDLER,
            json.dumps([str(p) for p in package.path]),
            package.handler,
        ],
        env={**lambda_environment, **package.environment},
        cwd=package.path[0],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
