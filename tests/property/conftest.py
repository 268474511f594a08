"""Hypothesis settings for the property suite: no example database and no files in the work tree,
no per-example deadline (timings vary from machine to machine), and a derandomized CI profile.

HYPOTHESIS_PROFILE=ci makes every run draw the same examples; the default profile draws new ones."""

import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps a cache of constants it mined from the source (and, unless disabled, an example
# database) in ./.hypothesis; this suite writes nothing into the work tree.
set_hypothesis_home_dir(
    os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY") or Path(tempfile.gettempdir()) / "imgloop-hypothesis"
)

settings.register_profile(
    "property",
    database=None,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("ci", parent=settings.get_profile("property"), derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "property"))
