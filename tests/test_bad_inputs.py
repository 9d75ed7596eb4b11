"""Every bad input gets a clear reason, is kept, and takes no good data down with it."""
import hashlib

import duckdb
import pytest
from conftest import FORECAST, STOCK_HEADER, write_export
from helpers import one, warehouse

from nova_pipeline.build import build
from nova_pipeline.errors import DropRejected
from nova_pipeline.sources import text

GOOD = [
    "ALMOX-BA;010825;PREGO;MATERIAL CIVIL;FORN A;10;UN;;1;02/10/2025;05/10/2025",
    "ALMOX-BA;010826;BLOCO;MATERIAL CIVIL;FORN A;1.234,5;UN;;1;03/10/2025;06/10/2025",
]
STOCK = ["ALMOX-BA;010825;PREGO;UN;5;0;10/10/2025"]


def _statuses(cfg):
    with warehouse(cfg) as con:
        return {r[0]: r[1:] for r in con.execute(
            "SELECT file_name, status, reason, rows_loaded, rows_rejected FROM meta.source_files").fetchall()}


def _quarantined(cfg, name):
    hits = [p for p in cfg.quarantine.rglob(f"*__{name}")]
    assert len(hits) == 1, f"{name} not kept in quarantine"
    reason = hits[0].with_name(hits[0].name + ".reason.txt").read_text()
    return hits[0], reason


def _with_good(site):
    write_export(site.landing / "suprimentos_good.csv", GOOD)
    write_export(site.landing / "estoque_good.csv", STOCK, header=STOCK_HEADER)


@pytest.mark.parametrize("name,content,reason_part", [
    ("suprimentos_empty.csv", b"", "empty file"),
    ("suprimentos_utf16.csv", ("\ufeff" + "A;B\r\n1;2\r\n").encode("utf-16"), "UTF-16"),
    ("suprimentos_garbage.csv", bytes(range(256)) * 40, "control byte"),
    ("suprimentos_header_only.csv", ("DEPÓSITO;PRODUTO/SERVIÇO;MATERIAL;FAMÍLIA;NOME FORNEC.;QUANTIDADE;U.M.;"
                                     "DATA REQUISITADA;SOLICITAÇÃO;DATA SOLICITADO;DATA DE COMPRA\r\n").encode("cp1252"),
     "header only"),
    ("suprimentos_wrong_columns.csv", "CODIGO;NOME;VALOR\r\n1;x;2\r\n".encode("cp1252"), "missing column(s) DEPÓSITO"),
    ("estoque_not_stock.csv", "DEPÓSITO;PRODUTO\r\nA;1\r\n".encode("cp1252"), "missing column(s) DESCRIÇÃO"),
], ids=["empty", "utf16", "garbage", "header-only", "wrong-columns", "stock-wrong-columns"])
def test_unreadable_file_is_rejected_whole_kept_and_explained(site, name, content, reason_part):
    _with_good(site)
    (site.landing / name).write_bytes(content)
    result = build(site)
    assert result.outcome == "published"
    status = _statuses(site)
    assert status[name][0] == "rejected" and reason_part in status[name][1]
    kept, reason_file = _quarantined(site, name)
    assert kept.read_bytes() == content and reason_part in reason_file
    assert (site.landing / name).read_bytes() == content  # the original is never touched
    assert status["suprimentos_good.csv"][:1] == ("loaded",)
    with warehouse(site) as con:
        assert one(con, "SELECT count(*) FROM gold.fact_requisition") == 2


@pytest.mark.parametrize("content", [
    b"", ("\ufeff" + "A;B\r\n").encode("utf-16"), bytes(range(256)) * 40, "A;B\r\nÇ;€\r\n".encode("cp1252"),
    "A;B\r\nÇ;x\ry\r\n".encode("utf-8"), b"x" * 100 + b"\r" + b"y" * 100, "A;B\r\n".encode("utf-8-sig"),
], ids=["empty", "utf16", "garbage", "cp1252", "lone-cr", "lone-cr-at-a-read-end", "utf8-mark"])
def test_an_export_is_inspected_in_the_read_that_hashes_it(tmp_path, monkeypatch, content):
    """Landing hashes an export and inspects it (encoding, control bytes, lone CRs) in one read, the
    hash in a second thread: the same sha256 as hashlib and the same answer, or refusal, as a
    separate inspection; the landing then reads nothing again. A file changed since is inspected anew."""
    monkeypatch.setattr(text, "CHUNK", 101)  # many reads, one ending on the lone CR
    path = tmp_path / "suprimentos_x.csv"
    path.write_bytes(content)
    try:
        expected = text.detect_encoding(path)
    except DropRejected as exc:
        expected = exc.reason
    assert text.hash_and_inspect(path) == hashlib.sha256(content).hexdigest()
    with monkeypatch.context() as m:
        m.setattr(text, "_inspect", lambda *a: pytest.fail("read again"))
        try:
            assert text.detect_encoding(path) == expected
        except DropRejected as exc:
            assert exc.reason == expected
    text.hash_and_inspect(path)
    path.write_bytes(content + b"A;B\r\n")  # changed after hashing: inspected again, not taken from the kept one
    with monkeypatch.context() as m:
        m.setattr(text, "_inspect", lambda *a: pytest.fail("read again"))
        with pytest.raises(BaseException, match="read again"):
            text.detect_encoding(path)
    text.forget()
    assert not text._INSPECTED


def test_bad_rows_are_rejected_with_line_and_reason_and_the_rest_loads(site):
    lines = GOOD + [
        "ALMOX-BA;010827;TUBO;MATERIAL CIVIL;FORN A;-3;UN;;1;02/10/2025;05/10/2025",     # line 4
        "ALMOX-BA;010828;TUBO;MATERIAL CIVIL;FORN A;abc;UN;;1;02/10/2025;05/10/2025",    # line 5
        "ALMOX-BA;010829;TUBO;MATERIAL CIVIL;FORN A;1;UN;;1;31/02/2025;05/10/2025",      # line 6
        "ALMOX-BA;010830;TUBO;MATERIAL CIVIL;FORN A;1;UN",                               # line 7
        'ALMOX-BA;010831;"TUBO;MATERIAL CIVIL;FORN A;1;UN;;1;02/10/2025;05/10/2025',     # line 8
        "ALMOX-BA;;TUBO;MATERIAL CIVIL;FORN A;1;UN;;1;02/10/2025;05/10/2025",            # line 9
        "ALMOX-BA;010832;TUBO;MATERIAL CIVIL;FORN A;1;UN;;1;02/10/1925;05/10/2025",      # line 10
    ]
    write_export(site.landing / "suprimentos_mixed.csv", lines)
    assert build(site).outcome == "published"
    with warehouse(site) as con:
        rejected = dict(con.execute("SELECT line_number, reason FROM meta.rejected_rows").fetchall())
        assert rejected[4] == "QUANTIDADE must be greater than 0, got -3"
        assert rejected[5].startswith("QUANTIDADE 'abc' is not a number (write 1.234,5")
        assert rejected[6] == "DATA SOLICITADO '31/02/2025' is not a date (dd/mm/yyyy)"
        assert rejected[7] == "expected 11 fields, found 7"
        assert rejected[8].startswith("malformed quoting")
        assert rejected[9] == "PRODUTO/SERVIÇO is empty"
        assert "out of range" in rejected[10]
        raw = one(con, "SELECT raw_line FROM meta.rejected_rows WHERE line_number = 7")
        assert raw == "ALMOX-BA;010830;TUBO;MATERIAL CIVIL;FORN A;1;UN"
        assert con.execute("SELECT status, rows_read, rows_loaded, rows_rejected FROM meta.source_files").fetchall() == [
            ("loaded", 9, 2, 7)]
        assert sorted(r[0] for r in con.execute("SELECT source_line FROM gold.fact_requisition").fetchall()) == [2, 3]
        assert one(con, "SELECT quantity FROM gold.fact_requisition WHERE item_id = '010826'") == 1234.5


def test_windows_1252_and_utf8_bom_are_detected_per_file(site):
    line = "ALMOX-BA;010900;CABO – “ESPECIAL” €;MATERIAL ELETRICO;FORN B;2;M²;;1;02/10/2025;05/10/2025"
    write_export(site.landing / "suprimentos_cp1252.csv", [line], encoding="cp1252")
    write_export(site.landing / "suprimentos_bom.csv", [line.replace("010900", "010901")], encoding="utf-8-sig")
    build(site)
    with warehouse(site) as con:
        rows = con.execute("SELECT item_id, description, unit FROM gold.fact_requisition ORDER BY item_id").fetchall()
    assert rows == [("010900", "CABO – “ESPECIAL” €", "M2"), ("010901", "CABO – “ESPECIAL” €", "M2")]


def test_undecodable_bytes_are_rejected(site):
    _with_good(site)
    (site.landing / "suprimentos_bad.csv").write_bytes(b"DEP\x81SITO;X\r\n\x8d\x90;1\r\n")
    build(site)
    assert "neither UTF-8 nor Windows-1252" in _statuses(site)["suprimentos_bad.csv"][1]


def test_overlapping_exports_count_a_shared_line_once(site):
    freight = "BAJSS002-4;0001;SERVIÇOS TOMADOS;SERVIÇOS PRESTADOS;BRASPRESS;1;SR;;95686;05/06/2025;03/01/2025"
    a = [GOOD[0], freight, freight]
    b = [freight, freight, GOOD[1], GOOD[0]]  # overlaps a; also brings GOOD[1]
    write_export(site.landing / "suprimentos_a.csv", a)
    build(site)
    write_export(site.landing / "suprimentos_b.csv", b)
    build(site)
    with warehouse(site) as con:
        assert one(con, "SELECT count(*) FROM gold.fact_requisition WHERE item_id = '0001'") == 2
        assert one(con, "SELECT count(*) FROM gold.fact_requisition") == 4
        assert one(con, "SELECT count(*) FROM gold.fact_requisition WHERE source_file = 'suprimentos_b.csv'") == 1


def test_same_bytes_under_another_name_is_a_duplicate(site):
    write_export(site.landing / "suprimentos_1.csv", GOOD)
    write_export(site.landing / "sub" / "suprimentos_copy.csv", GOOD)
    build(site)
    status = _statuses(site)
    assert sorted(s[0] for s in status.values()) == ["duplicate", "loaded"]
    with warehouse(site) as con:
        assert one(con, "SELECT count(*) FROM gold.fact_requisition") == 2


def test_stock_snapshot_without_a_valid_row_never_becomes_latest(site):
    _with_good(site)
    write_export(site.landing / "estoque_bad.csv", ["ALMOX-BA;010825;PREGO;UN;-1;0;20/10/2025"], header=STOCK_HEADER)
    build(site)
    with warehouse(site) as con:
        assert str(one(con, "SELECT as_of FROM meta.build")) == "2025-10-10"
        assert one(con, "SELECT reason FROM meta.rejected_rows WHERE file_name = 'estoque_bad.csv'") == "SALDO must be at least 0, got -1"
    assert _statuses(site)["estoque_bad.csv"][0] == "rejected"


def _forecast(con, path, drop_cols=(), **overrides):
    cols = {"item_id": "'010825'", "date": "DATE '2025-10-11' + i::INTEGER", "forecast": "1.5",
            "forecast_lower": "1.0", "forecast_upper": "2.0", "model_version": "'m-1'",
            "generated_at": "TIMESTAMPTZ '2025-10-10 12:00:00+00'", "source": "'ensemble'", "dataset_id": "'ds'"}
    cols.update(overrides)
    select = ", ".join(f"{v} AS {k}" for k, v in cols.items() if k not in drop_cols)
    con.execute(f"COPY (SELECT {select} FROM range(30) t(i)) TO '{path}' (FORMAT parquet)")
    return path


def test_forecast_missing_metadata_is_rejected_whole(site):
    _with_good(site)
    con = duckdb.connect()
    _forecast(con, site.ml_drops / "no_model.parquet", drop_cols=("model_version",))
    build(site)
    status = _statuses(site)["no_model.parquet"]
    assert status[0] == "rejected" and "missing required column(s) model_version" in status[1]
    _quarantined(site, "no_model.parquet")


def test_half_copied_parquet_is_rejected_then_the_whole_copy_loads(site, copy_demo_file):
    _with_good(site)
    whole = copy_demo_file(FORECAST, site.lake.parent / "whole.parquet").read_bytes()
    (site.ml_drops / "run.parquet").write_bytes(whole[: len(whole) // 2])
    build(site)
    assert "incomplete Parquet file" in _statuses(site)["run.parquet"][1]
    (site.ml_drops / "run.parquet").write_bytes(whole)  # the copy finishes: new bytes, new drop
    build(site)
    with warehouse(site) as con:
        assert con.execute("SELECT status FROM meta.source_files WHERE file_name = 'run.parquet' ORDER BY received_at").fetchall() == [
            ("rejected",), ("loaded",)]
        assert one(con, "SELECT count(*) FROM gold.fact_forecast") == 600


def test_impossible_forecast_values_are_rejected_rows(site):
    _with_good(site)
    con = duckdb.connect()
    _forecast(con, site.ml_drops / "neg.parquet", forecast="CASE WHEN i = 3 THEN -1.0 ELSE 1.0 END")
    build(site)
    with warehouse(site) as wh:
        assert wh.execute("SELECT line_number, reason FROM meta.rejected_rows").fetchall() == [
            (4, "forecast must be a number >= 0, got -1.0")]
        assert one(wh, "SELECT count(*) FROM gold.fact_forecast") == 29
