"""Lambda layers the stack builds itself, with pip on this machine instead of Docker.

Pip installs the Linux wheels for the functions' runtime (`--platform`, `--only-binary`), so the
layer is the same whether it is built here, in CI or on a Mac. In-process synthesis for local runs
and tests skips bundling (see imgloop.local.assembly): the functions run on this machine's own packages."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants as c


@jsii.implements(ILocalBundling)
class PipInstall:
    """Bundles a requirements file's packages for Python 3.13 on x86_64 Lambda, by pip, locally."""

    def __init__(self, requirements: Path) -> None:
        self._requirements = requirements

    def command(self, output_dir: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--requirement",
            str(self._requirements),
            "--target",
            f"{output_dir}/python",
            # Lambda's Python 3.13 runs on Amazon Linux 2023 (glibc 2.34).
            "--platform",
            "manylinux_2_28_x86_64",
            "--platform",
            "manylinux2014_x86_64",
            "--implementation",
            "cp",
            "--python-version",
            "3.13",
            "--only-binary=:all:",
        ]

    def try_bundle(self, output_dir: str, *_: Any, **__: Any) -> bool:  # jsii passes the options too
        subprocess.run(self.command(output_dir), check=True)
        return True


def pip_layer(scope: Construct, id: str, folder: Path, description: str) -> lambda_.LayerVersion:
    bundler = PipInstall(folder / "requirements.txt")
    return lambda_.LayerVersion(
        scope,
        id,
        code=lambda_.Code.from_asset(
            str(folder),
            # Never used: the local bundler always succeeds or fails the synthesis itself.
            bundling=BundlingOptions(image=DockerImage.from_registry("none"), local=bundler),
        ),
        compatible_runtimes=[lambda_.Runtime.PYTHON_3_13],
        compatible_architectures=[lambda_.Architecture.X86_64],
        description=description,
    )


PILLOW_DIR = c.ROOT / "infra" / "layers" / "pillow"
