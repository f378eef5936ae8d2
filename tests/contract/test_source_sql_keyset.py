"""SQL source on SQLite: keyset pagination with ties, read-only, contract."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from perfcore.domain.errors import InvalidValue
from perfcore.ports.sources import EvidenceSource, FieldType
from perfcore.testing.sources import EvidenceSourceContract, read_all
from perfcore_adapters.sources.sql import ColumnMap, SqlConfig, SqlSource, SqlStream

QUERY = "SELECT id, seq, machine, good, produced_at FROM production_counts"


def _database(path: Path, rows: int = 25) -> str:
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE production_counts (id INTEGER PRIMARY KEY, seq INTEGER, machine TEXT,"
            " good INTEGER, produced_at TEXT)"
        )
        for i in range(1, rows + 1):
            # sequence numbers repeat in threes: ties that keyset order must break by id
            conn.exec_driver_sql(
                "INSERT INTO production_counts VALUES (?, ?, ?, ?, ?)",
                (i, (i + 2) // 3, f"M{i % 2}", 10 * i, f"2025-03-01 08:{i:02d}:00"),
            )
    engine.dispose()
    return url


def _stream(batch_size: int = 4) -> SqlStream:
    return SqlStream(
        name="counts",
        query=QUERY,
        id_column="id",
        watermark_column="seq",
        occurred_at_column="produced_at",
        fields={
            "machine": ColumnMap("machine"),
            "good": ColumnMap("good", FieldType.NUMBER),
        },
        batch_size=batch_size,
    )


class TestSqlSourceContract(EvidenceSourceContract):
    def make_source(self, tmp_path: Path) -> EvidenceSource:
        return SqlSource(SqlConfig(_database(tmp_path / "mes.db"), [_stream()]))


def test_keyset_pages_read_every_row_once_across_ties(tmp_path: Path) -> None:
    source = SqlSource(SqlConfig(_database(tmp_path / "mes.db"), [_stream(batch_size=4)]))
    batches = list(source.read("counts", None))
    ids = [r.external_id for b in batches for r in b.records]
    assert ids == [str(i) for i in range(1, 26)]
    assert len(batches) == 7  # 25 rows in pages of 4
    first = batches[0].records[0]
    assert first.data == {"machine": "M1", "good": Decimal(10)}
    assert first.occurred_at == datetime(2025, 3, 1, 8, 1, tzinfo=UTC)
    source.close()


def test_resuming_mid_tie_continues_after_the_last_id(tmp_path: Path) -> None:
    url = _database(tmp_path / "mes.db", rows=10)
    source = SqlSource(SqlConfig(url, [_stream(batch_size=4)]))
    first_batch = next(iter(source.read("counts", None)))
    # rows 1..4: seq 1,1,1,2 — the bookmark sits inside the seq=2 tie
    assert [r.external_id for r in first_batch.records] == ["1", "2", "3", "4"]
    rest, _ = read_all(source, "counts", first_batch.state)
    assert [r.external_id for r in rest] == [str(i) for i in range(5, 11)]
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO production_counts VALUES (11, 4, 'M1', 5, '2025-03-01 09:00:00')"
        )
    engine.dispose()
    _, final = read_all(source, "counts", first_batch.state)
    newer, _ = read_all(source, "counts", final)
    assert [r.external_id for r in newer] == []
    source.close()


def test_only_select_queries_are_accepted() -> None:
    bad = SqlStream(
        name="x",
        query="DELETE FROM production_counts",
        id_column="id",
        watermark_column="seq",
        occurred_at_column="produced_at",
    )
    with pytest.raises(InvalidValue) as info:
        SqlSource(SqlConfig("sqlite://", [_stream(), bad]))
    assert info.value.field == "streams[1].query"


def test_connections_are_read_only(tmp_path: Path) -> None:
    url = _database(tmp_path / "mes.db", rows=1)
    source = SqlSource(SqlConfig(url, [_stream()]))
    with source._connect() as conn, pytest.raises(sa.exc.OperationalError):
        conn.exec_driver_sql("DELETE FROM production_counts")
    source.close()


def test_check_names_missing_columns(tmp_path: Path) -> None:
    url = _database(tmp_path / "mes.db", rows=1)
    stream = SqlStream(
        name="counts",
        query=QUERY,
        id_column="id",
        watermark_column="updated_at",
        occurred_at_column="produced_at",
    )
    result = SqlSource(SqlConfig(url, [stream])).check()
    assert not result.ok
    assert "updated_at" in result.detail
