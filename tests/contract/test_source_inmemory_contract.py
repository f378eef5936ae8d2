"""The reference InMemorySource passes the EvidenceSource contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from perfcore.ports.sources import EvidenceSource, RawRecord
from perfcore.testing.sources import EvidenceSourceContract, InMemorySource, check_source_contract

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def _source() -> InMemorySource:
    same = T0 + timedelta(hours=1)
    records = [RawRecord({"v": str(i)}, f"r{i}", same if i % 2 else T0) for i in range(7)]
    return InMemorySource({"output": records, "scrap": records[:2]}, batch_size=3)


class TestInMemorySourceContract(EvidenceSourceContract):
    def make_source(self, tmp_path: Path) -> EvidenceSource:
        return _source()


def test_check_source_contract_runs_without_pytest_fixtures() -> None:
    check_source_contract(_source())
