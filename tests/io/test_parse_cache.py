"""The parsed returns' cache: a warm run gives what a cold one gives, and parses only what is new or changed.

Every test reads real files with the real workers (fork by default, spawn under `FTAP_START_METHOD=spawn`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import re
import shutil
import sys
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.parquet as pq  # type: ignore[import-untyped]
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftap_pipeline.contract import layout
from ftap_pipeline.contract.findings import Finding, Scope
from ftap_pipeline.contract.model import Lines, ParsedReturn, Projet
from ftap_pipeline.io import intake, parse_cache
from ftap_pipeline.io.run_lock import outputs_lock
from tests import builders as b

ROOT = Path(__file__).resolve().parents[2]
INPUTS = ROOT / "inputs"
DEMO_RETURNS = sorted((INPUTS / "remontees").iterdir())


def canonical(value: Any) -> Any:
    """A value as comparable nested lists, every leaf with its type and repr: NaN equals NaN, -0.0 differs
    from 0.0, 1 from True and from 1.0, and the order of every mapping counts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [type(value).__name__, [(f.name, canonical(getattr(value, f.name))) for f in dataclasses.fields(value)]]
    if isinstance(value, dict):
        return ["dict", [(canonical(k), canonical(v)) for k, v in value.items()]]
    if isinstance(value, (list, tuple)):
        return [type(value).__name__, [canonical(v) for v in value]]
    if isinstance(value, frozenset):
        return ["frozenset", sorted(repr(canonical(v)) for v in value)]
    return [type(value).__name__, repr(value)]


def _inbox(tmp_path: Path, count: int = 8) -> Path:
    """A copy of the first demo returns, readable ones and the damaged ones the demo holds."""
    folder = tmp_path / "remontees"
    folder.mkdir()
    for path in DEMO_RETURNS[:count]:
        shutil.copy2(path, folder / path.name)
    return folder


def _read(folder: Path, cache: Path) -> intake.Intake:
    paths, _ = intake.scan(folder)
    return intake.read_returns_cached(paths, 2, cache)


def _uncached(folder: Path) -> list[ParsedReturn]:
    paths, _ = intake.scan(folder)
    return intake.parse_returns(paths, 2)


def _not_cacheable(returns: list[ParsedReturn]) -> set[str]:
    return {r.file for r in returns if not r.readable}


# --- the whole run ----------------------------------------------------------------------------------------


def _outputs(out_dir: Path) -> dict[str, bytes]:
    """Every output's bytes; in a `.eml` copy, the `Date` header and the MIME boundary (which the email
    package draws at random), which change on every run, cache or not, are set to one value."""
    return {str(p.relative_to(out_dir)): _RUN_BOUND.sub(b"(run)", p.read_bytes()) if p.suffix == ".eml"
            else p.read_bytes() for p in sorted(out_dir.rglob("*")) if p.is_file()}


_RUN_BOUND = re.compile(rb"={15}\d{10,20}==|^Date: [^\r\n]*", re.MULTILINE)


def _without_durations(manifest: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(manifest)
    data.pop("durees_s")
    return data


def test_a_warm_run_writes_what_a_cold_run_writes_and_parses_only_what_it_cannot_take_from_the_cache(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from ftap_pipeline.core.period import Period
    from ftap_pipeline.pipeline import RunConfig, run

    config = RunConfig.quarterly(INPUTS, tmp_path / "out", Period.parse("2025-T2"))
    assert config.cache == tmp_path / "out" / ".etat" / "cache-remontees"
    caplog.set_level(logging.INFO, logger="ftap")
    run(config)
    cold = _outputs(config.out_dir)
    counts = [r.args for r in caplog.records if r.getMessage().startswith("Remontées :")]
    caplog.clear()
    run(config)
    warm = _outputs(config.out_dir)
    counts += [r.args for r in caplog.records if r.getMessage().startswith("Remontées :")]

    assert sorted(cold) == sorted(warm)
    assert any(name.startswith("anomalies/") for name in cold)
    assert "donnees/remontees.csv" in cold
    for name in cold:
        if name != "manifest.json":
            assert warm[name] == cold[name], name
    assert _without_durations(warm["manifest.json"]) == _without_durations(cold["manifest.json"])
    unreadable = _not_cacheable(_uncached(INPUTS / "remontees"))
    assert counts == [(0, len(DEMO_RETURNS)), (len(DEMO_RETURNS) - len(unreadable), len(unreadable))]


# --- which files go to the parser -------------------------------------------------------------------------


def test_only_new_changed_or_renamed_files_are_parsed_again(tmp_path: Path) -> None:
    folder, cache = _inbox(tmp_path), tmp_path / "cache"
    cold = _read(folder, cache)
    assert set(cold.parsed) == {p.name for p in folder.iterdir()}
    assert cold.returns == _uncached(folder)
    unreadable = _not_cacheable(cold.returns)

    warm = _read(folder, cache)
    assert set(warm.parsed) == unreadable
    assert warm.returns == cold.returns

    changed = sorted(p for p in folder.iterdir() if p.name not in unreadable)[0]
    changed.write_bytes(DEMO_RETURNS[-1].read_bytes())  # other bytes under the same name
    renamed = sorted(p for p in folder.iterdir() if p.name not in unreadable and p != changed)[-1]
    renamed.rename(folder / f"copie-{renamed.name}")  # the same bytes under another name
    b.write(folder, "AP-2024-01_2025-T2.xlsx")
    again = _read(folder, cache)
    assert set(again.parsed) == unreadable | {changed.name, "AP-2024-01_2025-T2.xlsx", f"copie-{renamed.name}"}
    assert again.returns == _uncached(folder)
    assert set(_read(folder, cache).parsed) == unreadable


def test_without_pyarrow_or_without_a_folder_the_files_are_parsed_as_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _inbox(tmp_path, 3)
    expected = _uncached(folder)
    assert _read(folder, None).returns == expected  # type: ignore[arg-type]
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # an install without the orchestration extra
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    first = _read(folder, tmp_path / "cache")
    assert first.returns == expected
    assert set(first.parsed) == {p.name for p in folder.iterdir()}
    assert not (tmp_path / "cache").exists()


# --- damage -----------------------------------------------------------------------------------------------


def _truncate(cache: Path) -> None:
    target = next(cache.glob("*.consommation.parquet"))
    target.write_bytes(target.read_bytes()[:100])


def _foreign_schema(cache: Path) -> None:
    pq.write_table(pa.table({"autre": [1, 2]}), next(cache.glob("*.meta.parquet")))


def _scattered_lines(cache: Path) -> None:
    target = next(cache.glob("*.financement.parquet"))
    table = pq.read_table(target)
    pq.write_table(table.take(pa.array(list(range(table.num_rows))[::-1])).slice(0, table.num_rows // 2), target)


def _garbage_index(cache: Path) -> None:
    (cache / parse_cache.INDEX_FILE).write_text("{pas du json", encoding="utf-8")


def _batch_gone(cache: Path) -> None:
    for path in cache.glob("*.parquet"):
        path.unlink()


def _other_parser(cache: Path) -> None:
    index = json.loads((cache / parse_cache.INDEX_FILE).read_text(encoding="utf-8"))
    index["parser"] = "une-autre-version"
    (cache / parse_cache.INDEX_FILE).write_text(json.dumps(index), encoding="utf-8")


@pytest.mark.parametrize(("damage", "said"), [
    (_truncate, "endommagé"), (_foreign_schema, "endommagé"), (_scattered_lines, "endommagé"),
    (_garbage_index, "illisible"), (_batch_gone, "endommagé"), (_other_parser, None)])
def test_a_damaged_or_stale_cache_is_a_miss_and_is_rebuilt(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: Any, said: str | None) -> None:
    folder, cache = _inbox(tmp_path, 5), tmp_path / "cache"
    cold = _read(folder, cache)
    unreadable = _not_cacheable(cold.returns)
    damage(cache)
    caplog.set_level(logging.INFO, logger="ftap")
    after = _read(folder, cache)
    assert after.returns == cold.returns
    assert set(after.parsed) == {p.name for p in folder.iterdir()}
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    if said is None:
        assert warnings == []
    else:
        assert any("cache des remontées lues" in w and said in w for w in warnings), warnings
    assert set(_read(folder, cache).parsed) == unreadable  # rebuilt
    assert len({p.name.split(".")[0] for p in cache.glob("*.parquet")}) == 1  # the damaged batch is gone


def test_a_run_that_finds_the_cache_being_written_stores_nothing_and_leaves_it_whole(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder, cache = _inbox(tmp_path, 4), tmp_path / "cache"
    _read(folder, cache)
    before = {p.name: p.read_bytes() for p in cache.iterdir() if p.name != ".ftap.lock"}
    b.write(folder, "AP-2024-01_2025-T2.xlsx")
    caplog.set_level(logging.INFO, logger="ftap")
    with outputs_lock(cache, "un autre traitement"):
        during = _read(folder, cache)
    assert "AP-2024-01_2025-T2.xlsx" in during.parsed
    assert any("en cours d'écriture par un autre traitement" in r.getMessage() for r in caplog.records)
    assert {p.name: p.read_bytes() for p in cache.iterdir() if p.name != ".ftap.lock"} == before
    assert "AP-2024-01_2025-T2.xlsx" in _read(folder, cache).parsed  # stored by the next run, not before


# --- size follows the live returns ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_parses() -> list[ParsedReturn]:
    return intake.parse_returns(DEMO_RETURNS, 2)


def _save(folder: Path, new: list[ParsedReturn], seen: list[ParsedReturn]) -> parse_cache.Cache:
    store = parse_cache.open_cache(folder)
    assert store is not None
    store.save(new, [parse_cache.entry_key(p.sha256, p.file) for p in seen])
    reopened = parse_cache.open_cache(folder)
    assert reopened is not None
    return reopened


def test_a_return_out_of_the_inbox_for_keep_runs_runs_is_dropped_with_its_batch(
        tmp_path: Path, demo_parses: list[ParsedReturn]) -> None:
    readable = [p for p in demo_parses if p.readable]
    gone, stays = readable[:3], readable[3:6]
    store = _save(tmp_path, gone, gone)
    first_batch = {p.name for p in tmp_path.glob("*.parquet")}
    store = _save(tmp_path, stays, stays)
    for _ in range(parse_cache.KEEP_RUNS - 2):
        store = _save(tmp_path, [], stays)
    assert store.keys >= {parse_cache.entry_key(p.sha256, p.file) for p in gone}  # unseen for KEEP_RUNS - 1 runs
    store = _save(tmp_path, [], stays)
    assert store.keys == {parse_cache.entry_key(p.sha256, p.file) for p in stays}
    assert not first_batch & {p.name for p in tmp_path.glob("*.parquet")}


def test_past_max_batches_the_live_lines_are_rewritten_into_one_batch(
        tmp_path: Path, demo_parses: list[ParsedReturn]) -> None:
    readable = [p for p in demo_parses if p.readable][:parse_cache.MAX_BATCHES + 1]
    for i in range(len(readable)):
        store = _save(tmp_path, [readable[i]], readable[:i + 1])
    assert len(store.batches) == 1
    assert sum(store.batches.values()) == len(readable)
    assert len(list(tmp_path.glob("*.parquet"))) == len(layout.TABLE_SHEETS) + 1
    loaded = store.load(store.keys)
    assert [canonical(loaded[parse_cache.entry_key(p.sha256, p.file)]) for p in readable] == [
        canonical(p) for p in readable]


# --- exact round trip -------------------------------------------------------------------------------------


def _round_trip(returns: list[ParsedReturn], folder: Path) -> dict[str, ParsedReturn]:
    store = _save(folder, returns, returns)
    return store.load(parse_cache.entry_key(p.sha256, p.file) for p in returns)


def test_every_demo_return_comes_back_from_the_cache_exactly(tmp_path: Path, demo_parses: list[ParsedReturn]) -> None:
    readable = [p for p in demo_parses if p.readable]
    assert len(readable) >= 50
    loaded = _round_trip(readable, tmp_path)
    for p in readable:
        assert canonical(loaded[parse_cache.entry_key(p.sha256, p.file)]) == canonical(p), p.file


def test_a_value_the_cache_cannot_give_back_leaves_its_return_uncached(
        tmp_path: Path, demo_parses: list[ParsedReturn]) -> None:
    p = next(p for p in demo_parses if p.tables.get("consommation"))
    lines = p.tables["consommation"]
    odd = dataclasses.replace(p, file="odd.xlsx", tables={**p.tables, "consommation": Lines(lines.rows, {
        **lines.values, "ae": [complex(1, 2)] * len(lines)})})
    assert _round_trip([odd, p], tmp_path).keys() == {parse_cache.entry_key(p.sha256, p.file)}


_text = st.text(st.characters(exclude_categories=()), max_size=12)  # surrogates and controls included
#: Offsets of whole seconds: ISO text gives them back (the others are left uncached, tested apart).
_offsets = st.none() | st.builds(dt.timezone, st.timedeltas(min_value=dt.timedelta(hours=-23),
                                                            max_value=dt.timedelta(hours=23)).map(
    lambda d: d - dt.timedelta(microseconds=d.microseconds)))
_value = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(1 << 70), max_value=1 << 70),
    st.floats(allow_nan=True, allow_infinity=True), _text, st.dates(), st.datetimes(timezones=_offsets),
    st.decimals(allow_nan=False), st.times(timezones=_offsets), st.timedeltas())


def _lines(spec: layout.SheetLayout) -> st.SearchStrategy[Lines]:
    def build(n: int) -> st.SearchStrategy[Lines]:
        keys = st.lists(st.sampled_from([f.key for f in spec.fields]), unique=True)
        return keys.flatmap(lambda ks: st.builds(
            Lines, st.lists(st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1), min_size=n, max_size=n),
            st.fixed_dictionaries({k: st.lists(_value, min_size=n, max_size=n) for k in ks})))
    return st.integers(min_value=0, max_value=6).flatmap(build)


_projet = st.builds(Projet, **{f.name: st.one_of(st.none(), _text, st.dates(), st.integers())
                               for f in dataclasses.fields(Projet)})
_finding = st.builds(Finding, slug=_text, message=_text, file=_text, sha256=_text, sheet=_text, cell=_text,
                     value=_text, row=st.none() | st.integers(), scope=st.none() | st.sampled_from(Scope))
_parsed = st.builds(
    ParsedReturn, file=st.text(min_size=1, max_size=20).filter(lambda s: "/" not in s),
    sha256=st.text("0123456789abcdef", min_size=64, max_size=64), projet=_projet,
    projet_cells=st.dictionaries(_text, _text, max_size=3),
    projet_errors=st.dictionaries(_text, st.tuples(_text, _text, _text), max_size=2),
    tables=st.fixed_dictionaries({}, optional={s.key: _lines(s) for s in layout.TABLE_SHEETS}),
    columns=st.dictionaries(_text, st.dictionaries(_text, _text, max_size=3), max_size=2),
    sheet_names=st.dictionaries(_text, _text, max_size=3), findings=st.lists(_finding, max_size=3).map(tuple),
    unreadable=st.frozensets(st.tuples(_text, st.integers(), _text), max_size=3), content_key=_text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(_parsed, min_size=1, max_size=3, unique_by=lambda p: (p.sha256, p.file)))
def test_any_parsed_return_comes_back_from_the_cache_exactly(returns: list[ParsedReturn]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        loaded = _round_trip(returns, Path(folder))
    for p in returns:
        assert canonical(loaded[parse_cache.entry_key(p.sha256, p.file)]) == canonical(p)


def test_the_tagged_values_keep_their_type() -> None:
    for value in (True, 1, 1.0, -0.0, math.inf, "1", dt.date(2025, 6, 30), dt.datetime(2025, 6, 30, 12),
                  Decimal("1.10"), dt.time(1, 2), dt.timedelta(days=-1, seconds=3), Scope.LINE, "\ud800", 10**30):
        back = parse_cache.untag(json.loads(json.dumps(parse_cache.tag(value))))
        assert canonical(back) == canonical(value)
    assert math.isnan(parse_cache.untag(json.loads(json.dumps(parse_cache.tag(math.nan)))))


def test_a_time_zone_the_cache_cannot_name_leaves_the_value_uncached() -> None:
    import zoneinfo

    with pytest.raises(parse_cache.UncacheableError):
        parse_cache.tag(dt.datetime(2025, 6, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Paris")))
    aware = dt.datetime(2025, 6, 30, 12, fold=1, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert canonical(parse_cache.untag(json.loads(json.dumps(parse_cache.tag(aware))))) == canonical(aware)


_KINDS = sorted({f.kind for s in layout.TABLE_SHEETS for f in s.fields}, key=str)
_same_type = st.one_of(st.lists(st.none() | st.integers(min_value=-(1 << 64), max_value=1 << 64)),
                       st.lists(st.none() | st.floats(allow_nan=True)), st.lists(st.none() | _text),
                       st.lists(st.none() | st.dates()), st.lists(st.none() | st.datetimes()),
                       st.lists(st.none() | st.booleans()), st.lists(_value, max_size=4))


@given(kind=st.sampled_from(_KINDS), values=_same_type)
def test_a_column_fits_its_kind_whole_exactly_when_each_value_does(kind: Any, values: list[Any]) -> None:
    """The cache checks its columns whole (millions of values); it must take what the value-by-value
    check takes, and send the rest (a bool among integers, a datetime among dates, a lone surrogate, an
    integer past 64 bits) to it."""
    assert parse_cache._all_fit(kind, values) == all(v is None or parse_cache._fits(kind, v) for v in values)


def test_an_offset_iso_text_cannot_give_back_leaves_the_value_uncached() -> None:
    """A zone's name, or an offset's microseconds, would be lost on the way back: such a value is not cached."""
    for zone in (dt.timezone(dt.timedelta(hours=1), "CET"), dt.timezone(dt.timedelta(microseconds=1))):
        for value in (dt.datetime(2025, 6, 30, tzinfo=zone), dt.time(12, tzinfo=zone)):
            with pytest.raises(parse_cache.UncacheableError):
                parse_cache.tag(value)
    whole = dt.time(12, tzinfo=dt.timezone(dt.timedelta(hours=-3, seconds=1)))
    assert canonical(parse_cache.untag(json.loads(json.dumps(parse_cache.tag(whole))))) == canonical(whole)
