"""Suite-wide test settings.

Hypothesis profiles: ``dev`` (default) explores with fresh random seeds on every run; ``ci``
(selected when the environment variable ``CI`` is set, as it is in ``.ci/run``'s environment)
is derandomised, so a CI run is reproducible and cannot fail by chance on an unrelated change.
Invariants are still explored freshly on every developer run, where a counterexample is wanted.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))
