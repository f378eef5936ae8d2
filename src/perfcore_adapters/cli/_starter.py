"""The starter plan and sample data written by ``perfcore init``."""

from __future__ import annotations

__all__ = ["STARTER_CSV", "STARTER_PLAN"]

STARTER_PLAN = """\
# A starter perfcore plan: first pass yield of two line leaders, from inspection records.
# Edit it, then: perfcore validate perfcore.yaml && perfcore sync && perfcore score --period 2025-03
# Reference: docs/cli.md (commands) and the plan reference in docs/.
perfcore: 1
name: starter plan
time_zone: UTC
period: month
locale: en

evidence:
  inspection:
    fields: {line: text, inspected: number, good: number}

sources:
  inspections:
    config: {path: data/inspections.csv}
    evidence: inspection
    subject: {field: leader, kind: person}
    occurred_at: {field: date, format: "%Y-%m-%d"}
    id: [date, leader]
    fields: {line: line, inspected: inspected, good: good}

people:
  - {id: E1, name: Line leader one, manager: M1}
  - {id: E2, name: Line leader two, manager: M1}
  - {id: M1, name: Production manager}

indicators:
  inspected: {evidence: inspection, agg: sum, expr: inspected, title: Units inspected}
  good: {evidence: inspection, agg: sum, expr: good, title: Units good first time}
  fpy:
    title: First pass yield (good / inspected)
    type: ratio
    numerator: good
    denominator: inspected
    unit: ratio
    target: 0.95

objectives:
  quality: {weight: 100, indicators: {fpy: 100}}
weights: {sum_to: 100}

alerts:
  low_fpy: {indicator: fpy, below: 0.9, grain: day, title: First pass yield under 90 % on a day}

reviews:
  sla_hours: 48
  reminders_before_hours: [24]
  components: {indicator: 50, manager: 50}

calibration:
  buckets: {low: [1, 2], mid: [3], high: [4, 5]}
  targets: {low: 0.2, mid: 0.6, high: 0.2}

incentives:
  quality_month:
    title: First pass yield at 95 % or better for the month
    when: "fpy >= 0.95"
    reward: {kind: points, amount: 50}
"""

STARTER_CSV = """\
date,leader,line,inspected,good
2025-03-03,E1,L1,120,116
2025-03-03,E2,L2,100,97
2025-03-04,E1,L1,130,111
2025-03-04,E2,L2,110,108
2025-03-05,E1,L1,125,121
2025-03-05,E2,L2,105,96
2025-03-06,E1,L1,118,117
2025-03-06,E2,L2,102,100
"""
