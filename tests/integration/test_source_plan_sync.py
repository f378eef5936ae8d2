"""A built-in source named by kind in a plan syncs through the application layer.

Rows are a 3-row excerpt in the shape of Maven Analytics' CRM ``sales_pipeline.csv`` (see
examples/data/crm-sales-opportunities/PROVENANCE.md); the open deal has no close date and must be
rejected, the two closed deals accepted, and an unchanged file syncs nothing the second time.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from perfcore.bootstrap import bootstrap
from perfcore.plugins.manager import PluginHost
from perfcore.services.commands import SyncSource

ROWS = (
    "opportunity_id,sales_agent,deal_stage,close_date,close_value\n"
    "1C1I7A6R,Moses Frase,Won,2017-03-01,1054\n"
    "Z063OYW0,Darcel Schlecht,Won,2017-03-11,4514\n"
    "EC4QE1BX,Darcel Schlecht,Engaging,,\n"
)


def _plan(path: Path) -> str:
    return textwrap.dedent(
        f"""\
        perfcore: 1
        name: sales
        time_zone: America/New_York
        period: quarter
        evidence:
          closed_deal:
            fields: {{stage: text, close_date: date, close_value: number}}
        indicators:
          closed: {{title: Closed, evidence: closed_deal, agg: count}}
        sources:
          crm:
            kind: csv
            stream: rows
            config:
              path: {path}
              raw:
                occurred_at: close_date
                format: "%Y-%m-%d"
                id_columns: [opportunity_id]
                timezone: America/New_York
            evidence: closed_deal
            subject: {{field: sales_agent, kind: person}}
            occurred_at: {{field: close_date, format: "%Y-%m-%d"}}
            id: [opportunity_id]
            fields: {{stage: deal_stage, close_date: close_date, close_value: close_value}}
        """
    )


def test_csv_source_by_kind_syncs_through_sync_source(tmp_path: Path) -> None:
    path = tmp_path / "sales_pipeline.csv"
    path.write_text(ROWS, encoding="utf-8")
    host = PluginHost()
    host.load(entry_points=False)
    bus = bootstrap(plugins=host, plan=_plan(path))
    first = bus.handle(SyncSource("crm"))
    assert (first.read, first.accepted, first.rejected) == (3, 2, 1)
    again = bus.handle(SyncSource("crm"))
    assert (again.read, again.accepted) == (0, 0)
