"""perfcore: an embeddable engine for closed-loop performance management.

Objectives become indicators bound to live evidence; evidence becomes scorecards; deviations open
reviews with deadlines; ratings are calibrated; rules turn results into rewards.

Nothing is created or loaded at import time; see :func:`perfcore.bootstrap.bootstrap` for the
composition root.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
