"""Calibration: sessions, distribution guidelines, normalisation suggestions and rater bias.

Modules (import from them directly):

* :mod:`.session`    — CalibrationCycle, CalibrationSession (DRAFT → OPEN → IN_SESSION → LOCKED →
  PUBLISHED), immutable Adjustment events, lock policy, scheduled publish.
* :mod:`.guidelines` — DistributionGuideline, BucketRule/Operator, live check with the
  "move k people" hint, exact largest-remainder allocation.
* :mod:`.scale`      — RatingScale, BucketMapping (explicit rating → bucket).
* :mod:`.ninebox`    — NineBoxGrid (performance × potential).
* :mod:`.batch`      — RatingBatch (parallel columns) and TeamStats (ddof documented).
* :mod:`.normalise`  — z-score, mean shift, ratio, min–max, percentile rank, shrinkage.
* :mod:`.bias`       — leniency t, range restriction, central tendency, Δ and χ², halo.

Sources: the HR-partner guide docs/calibration.md, whose §8 names the studies and vendor pages
behind each rule and marks perfcore's own choices.
"""

__all__: list[str] = []
