"""CSV and Excel sources: encodings, options, rejections, streaming, contract."""

from __future__ import annotations

import tracemalloc
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

import pytest

from perfcore.domain.errors import InvalidValue
from perfcore.plugins.registry import SourceRegistry
from perfcore.ports.sources import EvidenceSource, FieldType
from perfcore.testing.sources import EvidenceSourceContract, read_all
from perfcore_adapters.sources.files import (
    ColumnMap,
    CsvConfig,
    CsvSource,
    ExcelConfig,
    ExcelSource,
    RawColumns,
    TabularMapping,
    detect_encoding,
)

CN_MAPPING = TabularMapping(
    columns={
        "employee": ColumnMap("工号", FieldType.TEXT, required=True),
        "day": ColumnMap("日期", FieldType.DATE),
        "output": ColumnMap("产量", FieldType.NUMBER),
        "passed": ColumnMap("合格", FieldType.BOOLEAN),
    },
    occurred_at="day",
    id_fields=["employee", "day"],
    timezone="Asia/Shanghai",
)

CN_CSV = "工号,日期,产量,合格\nE001,2025-03-01,120,是\nE002,2025/03/01,98.5,否\n"


def _cn_file(tmp_path: Path, encoding: str) -> Path:
    path = tmp_path / f"产量_{encoding}.csv"
    path.write_bytes(CN_CSV.encode(encoding))
    return path


def test_gb18030_export_with_chinese_headers_is_detected_and_read(tmp_path: Path) -> None:
    path = _cn_file(tmp_path, "gb18030")
    assert detect_encoding(path)[0] == "gb18030"
    records, _ = read_all(CsvSource(CsvConfig(str(path), CN_MAPPING)), "rows")
    assert [r.data for r in records] == [
        {"employee": "E001", "day": date(2025, 3, 1), "output": Decimal(120), "passed": True},
        {"employee": "E002", "day": date(2025, 3, 1), "output": Decimal("98.5"), "passed": False},
    ]
    shanghai = timezone(timedelta(hours=8))
    assert records[0].occurred_at == datetime(2025, 3, 1, tzinfo=shanghai)
    assert records[0].external_id == "E001|2025-03-01"


def test_utf8_with_bom_is_read_and_the_bom_does_not_spoil_the_first_header(
    tmp_path: Path,
) -> None:
    path = _cn_file(tmp_path, "utf-8-sig")
    assert detect_encoding(path)[0] == "utf-8-sig"
    records, _ = read_all(CsvSource(CsvConfig(str(path), CN_MAPPING)), "rows")
    assert [r.data["employee"] for r in records] == ["E001", "E002"]


def test_bad_rows_are_rejected_with_file_line_column_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(
        "工号,日期,产量,合格\n"
        "E001,2025-03-01,120,是\n"
        "E002,2025-13-01,12x,maybe\n"
        ",2025-03-02,5,是\n"
        "E004,2025-03-02,7,否\n",
        encoding="utf-8",
    )
    batches = list(CsvSource(CsvConfig(str(path), CN_MAPPING)).read("rows", None))
    records = [r for b in batches for r in b.records]
    rejections = [j for b in batches for j in b.rejections]
    assert [r.data["employee"] for r in records] == ["E001", "E004"]
    assert [(j.location, j.column) for j in rejections] == [
        ("bad.csv:3", "日期"),
        ("bad.csv:3", "产量"),
        ("bad.csv:3", "合格"),
        ("bad.csv:4", "工号"),
    ]
    assert "expected a number" in rejections[1].reason
    assert rejections[1].raw == "12x"
    assert rejections[3].reason == "required value is blank"


def test_semicolon_delimiter_and_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "de.csv"
    path.write_text("Datum;Menge\n2025-03-01;1.234,5\n2025-03-02;0,75\n", encoding="utf-8")
    mapping = TabularMapping(
        columns={
            "day": ColumnMap("Datum", FieldType.DATE),
            "qty": ColumnMap("Menge", FieldType.NUMBER),
        },
        occurred_at="day",
        decimal_comma=True,
    )
    for delimiter in (";", "auto"):
        source = CsvSource(CsvConfig(str(path), mapping, delimiter=delimiter))
        records, _ = read_all(source, "rows")
        assert [r.data["qty"] for r in records] == [Decimal("1234.5"), Decimal("0.75")]


def test_missing_column_is_named_with_the_headers_found(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("工号,日期\nE1,2025-03-01\n", encoding="utf-8")
    source = CsvSource(CsvConfig(str(path), CN_MAPPING))
    assert not source.check().ok
    with pytest.raises(InvalidValue) as info:
        list(source.read("rows", None))
    assert info.value.field == "columns.output.column"
    assert info.value.valid == "工号, 日期"


def test_occurred_at_must_be_a_date_field() -> None:
    mapping = TabularMapping(columns={"n": ColumnMap("n", FieldType.NUMBER)}, occurred_at="n")
    with pytest.raises(InvalidValue) as info:
        CsvSource(CsvConfig("x.csv", mapping))
    assert info.value.field == "occurred_at"


def test_unchanged_file_yields_nothing_on_the_next_sync(tmp_path: Path) -> None:
    path = _cn_file(tmp_path, "utf-8")
    source = CsvSource(CsvConfig(str(path), CN_MAPPING))
    first, state = read_all(source, "rows")
    again, state2 = read_all(source, "rows", state)
    assert len(first) == 2
    assert again == []
    assert state2 == state
    path.write_bytes(path.read_bytes() + "E003,2025-03-03,1,是\n".encode())
    changed, _ = read_all(source, "rows", state)
    assert len(changed) == 3


def test_registry_builds_a_csv_source_from_plan_data_with_precise_errors(tmp_path: Path) -> None:
    registry = SourceRegistry()
    registry.add("csv", CsvSource, CsvConfig)
    plan = {
        "path": str(_cn_file(tmp_path, "gb18030")),
        "mapping": {
            "columns": {"day": {"column": "日期", "type": "date"}},
            "occurred_at": "day",
        },
    }
    assert registry.create("csv", plan).check().ok
    plan["mapping"]["columns"]["day"]["type"] = "calendar"  # type: ignore[index]
    with pytest.raises(InvalidValue) as info:
        registry.create("csv", plan, path="sources[0].config")
    assert info.value.field == "sources[0].config.mapping.columns.day.type"


def _peak_memory_of_reading(path: Path, rows: int) -> int:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("id,when,value\n")
        for i in range(rows):
            handle.write(f"{i},2025-03-01T08:00:00+00:00,{i}.5\n")
    mapping = TabularMapping(
        columns={
            "id": ColumnMap("id"),
            "when": ColumnMap("when", FieldType.DATETIME),
            "value": ColumnMap("value", FieldType.NUMBER),
        },
        occurred_at="when",
        id_fields=["id"],
    )
    source = CsvSource(CsvConfig(str(path), mapping, batch_size=200))
    tracemalloc.start()
    try:
        count = sum(len(b.records) for b in source.read("rows", None))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == rows
    return peak


def test_a_large_csv_is_streamed_in_batches_not_held_in_memory(tmp_path: Path) -> None:
    small = _peak_memory_of_reading(tmp_path / "small.csv", 8_000)
    big = _peak_memory_of_reading(tmp_path / "big.csv", 32_000)
    # four times the rows, about the same peak: memory is bounded by the batch, not the file
    assert big < 1.5 * small
    assert big < (tmp_path / "big.csv").stat().st_size


def _xlsx(path: Path, rows: list[list[object]]) -> None:
    """A minimal workbook written by hand (inline strings and numbers)."""

    def cell(ref: str, value: object) -> str:
        if isinstance(value, int | float):
            return f'<c r="{ref}"><v>{value}</v></c>'
        return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'

    body = "".join(
        f'<row r="{r}">'
        + "".join(cell(f"{chr(65 + c)}{r}", v) for c, v in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows, start=1)
    )
    ns = "http://schemas.openxmlformats.org"
    files = {
        "[Content_Types].xml": f'<Types xmlns="{ns}/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/></Types>',
        "_rels/.rels": f'<Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<workbook xmlns="{ns}/spreadsheetml/2006/main" '
        f'xmlns:r="{ns}/officeDocument/2006/relationships"><sheets>'
        '<sheet name="产量" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{ns}/spreadsheetml/2006/main">'
        f"<sheetData>{body}</sheetData></worksheet>",
    }
    with zipfile.ZipFile(path, "w") as book:
        for name, text in files.items():
            book.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + text)


def test_excel_sheet_is_read_with_calamine_and_whole_floats_become_integers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kpi.xlsx"
    _xlsx(
        path,
        [
            ["月度产量报表"],
            ["工号", "日期", "产量", "合格"],
            ["E001", "2025-03-01", 120, "是"],
            ["E002", "2025-03-02", "n/a", "否"],
        ],
    )
    source = ExcelSource(ExcelConfig(str(path), CN_MAPPING, header_row=2))
    assert source.check().ok
    batches = list(source.read("rows", None))
    (record,) = [r for b in batches for r in b.records]
    assert record.data["output"] == Decimal(120)
    assert str(record.data["output"]) == "120"
    (rejection,) = [j for b in batches for j in b.rejections]
    assert (rejection.location, rejection.column) == ("kpi.xlsx!产量:4", "产量")


def test_unknown_sheet_is_reported_with_the_sheets_found(tmp_path: Path) -> None:
    path = tmp_path / "kpi.xlsx"
    _xlsx(path, [["工号"]])
    result = ExcelSource(ExcelConfig(str(path), CN_MAPPING, sheet="Sheet9")).check()
    assert not result.ok
    assert "产量" in result.detail


class TestCsvSourceContract(EvidenceSourceContract):
    def make_source(self, tmp_path: Path) -> EvidenceSource:
        return CsvSource(CsvConfig(str(_cn_file(tmp_path, "gb18030")), CN_MAPPING))


class TestExcelSourceContract(EvidenceSourceContract):
    def make_source(self, tmp_path: Path) -> EvidenceSource:
        path = tmp_path / "kpi.xlsx"
        _xlsx(path, [["工号", "日期", "产量", "合格"], ["E001", "2025-03-01", 1.5, "true"]])
        return ExcelSource(ExcelConfig(str(path), CN_MAPPING))


def test_naive_datetimes_take_the_configured_zone() -> None:
    from perfcore_adapters.sources._coerce import CoercionOptions, coerce

    value = coerce("2025-03-01 08:00", FieldType.DATETIME, CoercionOptions(tz=UTC))
    assert value == datetime(2025, 3, 1, 8, tzinfo=UTC)
    assert coerce("01:30:00", FieldType.DURATION) == timedelta(hours=1, minutes=30)
    assert coerce("PT1H30M", FieldType.DURATION) == timedelta(hours=1, minutes=30)
    assert coerce("95%", FieldType.NUMBER) == Decimal("0.95")


def test_when_neither_utf8_nor_gb18030_decode_charset_normalizer_guesses(tmp_path: Path) -> None:
    text = "Name;Betrag\nMüller;€100\nJosé;€ 5,50\nFrançois;Größe\n"
    path = tmp_path / "legacy.csv"
    path.write_bytes(text.encode("cp1252"))  # 0x80 (€) is invalid in both utf-8 and gb18030
    encoding, _ = detect_encoding(path)
    assert path.read_text(encoding=encoding) == text


def test_an_explicit_encoding_that_does_not_fit_is_reported() -> None:
    with pytest.raises(InvalidValue) as info:
        detect_encoding(Path(__file__), "ascii")
    assert info.value.field == "encoding"


SALES = (
    "opportunity_id,sales_agent,deal_stage,close_date,close_value\n"
    "1C1I7A6R,Moses Frase,Won,2017-03-01,1054\n"
    "Z063OYW0,Darcel Schlecht,Won,2017-03-11,4514\n"
    "EC4QE1BX,Darcel Schlecht,Engaging,,\n"
)


def _raw_csv(tmp_path: Path) -> CsvSource:
    path = tmp_path / "sales_pipeline.csv"
    path.write_text(SALES, encoding="utf-8")
    raw = RawColumns("close_date", "%Y-%m-%d", ["opportunity_id"], "America/New_York")
    return CsvSource(CsvConfig(str(path), raw=raw, stream="crm_pipeline"))


def test_raw_mode_delivers_columns_as_text_for_the_plan_to_map(tmp_path: Path) -> None:
    source = _raw_csv(tmp_path)
    (spec,) = source.discover()
    assert [f.name for f in spec.fields] == [
        "opportunity_id",
        "sales_agent",
        "deal_stage",
        "close_date",
        "close_value",
    ]
    batches = list(source.read("crm_pipeline", None))
    records = [r for b in batches for r in b.records]
    assert records[0].external_id == "1C1I7A6R"
    assert records[0].data["close_value"] == "1054"
    new_york_winter = timezone(timedelta(hours=-5))
    assert records[0].occurred_at == datetime(2017, 3, 1, tzinfo=new_york_winter)
    (rejection,) = [j for b in batches for j in b.rejections]
    assert (rejection.location, rejection.column) == ("sales_pipeline.csv:4", "close_date")


def test_raw_mode_from_plan_data_names_a_missing_column(tmp_path: Path) -> None:
    registry = SourceRegistry()
    registry.add("csv", CsvSource, CsvConfig)
    path = tmp_path / "s.csv"
    path.write_text(SALES, encoding="utf-8")
    source = registry.create("csv", {"path": str(path), "raw": {"occurred_at": "closed"}})
    with pytest.raises(InvalidValue) as info:
        source.discover()
    assert info.value.field == "raw.occurred_at"
    assert "close_date" in (info.value.valid or "")


def test_mapping_and_raw_are_mutually_exclusive() -> None:
    with pytest.raises(InvalidValue) as info:
        CsvSource(CsvConfig("x.csv"))
    assert info.value.field == "mapping"


class TestRawCsvSourceContract(EvidenceSourceContract):
    def make_source(self, tmp_path: Path) -> EvidenceSource:
        return _raw_csv(tmp_path)
