"""A cache of parsed returns, so that a run re-reads only the files that are new or have changed.

A return's parse depends only on its bytes, its name (the extension decides the reader, the name is in each
finding) and the parser: the cache is keyed by the file's SHA-256 and name (`entry_key`), and the whole cache
by `parser_version()` (package version, `PARSER_VERSION`, and the source of every module that parsing runs),
so an upgrade or a changed layout never serves a stale parse. What is cached is the parse, not the verdict:
validation depends on the référentiel and runs every time.

On disk, in one folder (see `RunConfig.cache`), deleting which is always safe:
- `index.json`: the parser version, a generation, a run counter and, per key, its batch and the last run
  that saw its file in the inbox. The workers read only the keys (`is_known`), once per process.
- per run that parsed something new, one batch: `<batch>.meta.parquet` (one row per return: its form,
  findings and cells, as tagged JSON) and `<batch>.<sheet>.parquet` per table sheet (one row per line, a
  `_key` column, then per field a column of the field kind's Arrow type and a `<field>~x` column, null but for
  a value of another type, kept as tagged JSON), so a loaded return equals the parsed one, types included.
- Pruning: a key whose file has not been in the inbox for `KEEP_RUNS` runs is dropped, a batch with no key
  left is deleted, and past `MAX_BATCHES` batches the live lines are rewritten into one: the cache follows the
  live returns, not the history of the inbox.

pyarrow is imported only here, and only when a cache is used: `ftap check` on a porteur's PC has no pyarrow.
Any damage (an unreadable index, a truncated or foreign Parquet file) is a miss, said once in the log, and
the next write rebuilds what it lost; nothing here ever stops a run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
import logging
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from ftap_pipeline.contract import layout
from ftap_pipeline.contract.findings import Finding, Scope
from ftap_pipeline.contract.layout import Kind
from ftap_pipeline.contract.model import Lines, ParsedReturn, Projet
from ftap_pipeline.io.atomic import atomic_path, write_text
from ftap_pipeline.io.run_lock import RunLockedError, outputs_lock

if TYPE_CHECKING:
    import pyarrow as pa  # type: ignore[import-untyped]

log = logging.getLogger("ftap")

#: Bump when parsing changes in a way the hash of the parsing modules' source would not show.
PARSER_VERSION: Final = 1
#: Version of the files' layout in the cache folder.
FORMAT: Final = 1
INDEX_FILE: Final = "index.json"
#: Runs a key may go unseen (its file out of the inbox) before it is dropped.
KEEP_RUNS: Final = 4
#: Batches kept before the live lines are rewritten into one.
MAX_BATCHES: Final = 8
#: The modules whose code decides a parse: a change to any of them makes every cached parse stale.
_PARSER_MODULES: Final = ("contract/layout.py", "contract/labels.py", "contract/tables.py", "contract/preflight.py",
                          "contract/raw.py", "contract/model.py", "contract/findings.py", "contract/enums.py",
                          "contract/errors.py", "core/parsing.py", "core/normalise.py", "io/workbook_reader.py",
                          "io/intake.py", "io/parse_cache.py")
_KEY: Final = "_key"
_ROW: Final = "_row"
_META: Final = "meta"
_ODD: Final = "~x"


@functools.cache
def parser_version() -> str:
    """What the cache's parses were made by: a parse from another version is never served."""
    import ftap_pipeline

    digest = hashlib.sha256(f"{FORMAT}/{PARSER_VERSION}/{_package_version()}".encode())
    root = Path(ftap_pipeline.__file__).parent
    for name in _PARSER_MODULES:
        try:
            digest.update((root / name).read_bytes())
        except OSError:  # a frozen install: the layout itself still counts
            digest.update(repr((layout.SHEETS, layout.FORM_HEADERS, layout.KNOWN_EXTRA_SHEETS)).encode())
    return digest.hexdigest()[:32]


def _package_version() -> str:
    try:
        return importlib.metadata.version("ftap-pipeline")
    except importlib.metadata.PackageNotFoundError:
        return "absent"


def entry_key(sha256: str, file: str) -> str:
    """A cached parse's key: the bytes and the name (`/` never occurs in a file's name)."""
    return f"{sha256}/{file}"


@dataclass(frozen=True)
class Hit:
    """What a worker sends back for a file whose parse is cached: the caller loads it (`Cache.load`)."""

    key: str
    file: str


# --- the workers' side: only the index's keys, read once per process -------------------------------------

_known: dict[tuple[Path, str], frozenset[str]] = {}


def is_known(folder: Path, generation: str, key: str) -> bool:
    """Whether the index of `generation` holds `key`; the caller checks it again when it loads the parse."""
    keys = _known.get((folder, generation))
    if keys is None:
        try:
            keys = frozenset(_read_index(folder)["entries"])
        except (OSError, ValueError, KeyError, TypeError):
            keys = frozenset()
        _known.clear()
        _known[(folder, generation)] = keys
    return key in keys


def _read_index(folder: Path) -> dict[str, Any]:
    data = json.loads((folder / INDEX_FILE).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
        raise ValueError("index sans entrées")
    return data


# --- the caller's side ------------------------------------------------------------------------------------


@dataclass
class Cache:
    """The cache folder as this run found it, and what the run changes in it (written once, by `save`)."""

    folder: Path
    generation: str
    run: int
    #: key → [batch, last run that saw its file].
    entries: dict[str, list[Any]]
    #: batch → how many keys it was written with.
    batches: dict[str, int]
    damaged: set[str] = field(default_factory=set)

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.entries)

    def share_with_workers(self) -> None:
        """Forked workers inherit the keys, rather than each reading the index again."""
        _known.clear()
        _known[(self.folder, self.generation)] = self.keys

    def load(self, keys: Iterable[str]) -> dict[str, ParsedReturn]:
        """The cached parses of `keys` that can be read back whole; a damaged batch is a miss, said once."""
        wanted: dict[str, list[str]] = {}
        for key in keys:
            if key in self.entries:
                wanted.setdefault(self.entries[key][0], []).append(key)
        out: dict[str, ParsedReturn] = {}
        for batch, batch_keys in sorted(wanted.items()):
            try:
                out.update(_load_batch(self.folder, batch, batch_keys))
            except Exception as exc:  # noqa: BLE001 - any damage (truncated, foreign schema) is a miss
                log.warning("Le cache des remontées lues est endommagé (%s : %s) ; ces remontées sont relues et le "
                            "cache reconstruit.", batch, _reason(exc))
                self.damaged.add(batch)
        return out

    def save(self, parsed: Sequence[ParsedReturn], seen: Iterable[str]) -> None:
        """Store the new parses and mark what this run saw: one batch, an index replaced atomically, pruning.

        Another run that writes the same folder holds its lock: this run then stores nothing (the next one
        will), rather than wait or mix their writes."""
        try:
            with outputs_lock(self.folder, "cache des remontées lues"):
                self._save_locked(parsed, set(seen))
        except RunLockedError:
            log.info("Le cache des remontées lues est en cours d'écriture par un autre traitement ; les lectures de "
                     "celui-ci n'y sont pas ajoutées.")
        except OSError as exc:
            log.warning("Le cache des remontées lues n'a pas pu être écrit (%s) ; le traitement n'en dépend pas.",
                        _reason(exc))

    def _save_locked(self, parsed: Sequence[ParsedReturn], seen: set[str]) -> None:
        disk = _open_index(self.folder, quiet=True)
        entries = disk.entries if disk is not None else {}
        batches = disk.batches if disk is not None else {}
        run = max(self.run, disk.run if disk is not None else 0) + 1
        for batch in self.damaged:
            batches.pop(batch, None)
        entries = {k: v for k, v in entries.items() if v[0] in batches}
        for key in seen:
            if key in entries:
                entries[key][1] = run
        rows = [(entry_key(p.sha256, p.file), p) for p in parsed]
        if rows:
            batch = f"{run:06d}-{uuid.uuid4().hex[:8]}"
            written = _write_batch(self.folder, batch, rows)
            if written:
                batches[batch] = len(written)
                entries.update({key: [batch, run] for key in written})
        entries = {k: v for k, v in entries.items() if v[1] > run - KEEP_RUNS}
        live = {v[0] for v in entries.values()}
        batches = {b: n for b, n in batches.items() if b in live}
        if len(batches) > MAX_BATCHES:
            batch = f"{run:06d}-{uuid.uuid4().hex[:8]}"
            moved = _compact(self.folder, batch, sorted(batches), entries)
            batches = {batch: len(moved)}
            entries = {k: [batch, v[1]] for k, v in entries.items() if k in moved}
        write_text(self.folder / INDEX_FILE, json.dumps(
            {"format": FORMAT, "parser": parser_version(), "generation": uuid.uuid4().hex, "run": run,
             "batches": batches, "entries": entries}, ensure_ascii=False))
        _remove_unreferenced(self.folder, set(batches))


def open_cache(folder: Path | None) -> Cache | None:
    """The cache in `folder`, or None when there is none to use (no folder, or no pyarrow here)."""
    if folder is None:
        return None
    try:
        import pyarrow
        import pyarrow.parquet  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        log.info("Le cache des remontées lues n'est pas utilisé : pyarrow n'est pas installé.")
        return None
    return _open_index(folder, quiet=False) or Cache(folder, uuid.uuid4().hex, 0, {}, {})


def _open_index(folder: Path, *, quiet: bool) -> Cache | None:
    """The index as it is on disk; None when there is none, or one of another parser (stale: all a miss),
    or a damaged one (said in the log unless `quiet`)."""
    try:
        data = _read_index(folder)
        if data.get("format") != FORMAT or data.get("parser") != parser_version():
            return None
        entries = {str(k): [str(v[0]), int(v[1])] for k, v in data["entries"].items()}
        batches = {str(k): int(v) for k, v in data["batches"].items()}
        return Cache(folder, str(data["generation"]), int(data["run"]), entries, batches)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError) as exc:
        if not quiet:
            log.warning("L'index du cache des remontées lues est illisible (%s) ; le cache est reconstruit.",
                        _reason(exc))
        return None


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def _remove_unreferenced(folder: Path, batches: set[str]) -> None:
    """Files of dropped batches, and leftovers of a write that was killed (held lock: nobody else writes)."""
    for entry in os.scandir(folder):
        name = entry.name
        if name in (INDEX_FILE, ".ftap.lock"):
            continue
        if name.endswith(".parquet") and name.split(".", 1)[0] in batches:
            continue
        Path(entry.path).unlink(missing_ok=True)


# --- values: one Arrow type per field kind, anything else as tagged JSON ----------------------------------


class UncacheableError(ValueError):
    """A value the cache cannot give back exactly: its return is simply not cached."""


def _arrow_type(kind: Kind) -> pa.DataType:
    import pyarrow as pa

    if kind in (Kind.INT, Kind.TITRE):
        return pa.int64()
    if kind in (Kind.AMOUNT, Kind.NUMBER):
        return pa.float64()
    if kind is Kind.DATE:
        return pa.date32()
    return pa.string()


_INT64: Final = (-(1 << 63), (1 << 63) - 1)


def _fits(kind: Kind, value: object) -> bool:
    """Whether the kind's Arrow column gives `value` back as it is (type included)."""
    kind_type = type(value)
    if kind in (Kind.INT, Kind.TITRE):
        return kind_type is int and _INT64[0] <= value <= _INT64[1]  # type: ignore[operator]
    if kind in (Kind.AMOUNT, Kind.NUMBER):
        return kind_type is float
    if kind is Kind.DATE:
        return kind_type is dt.date
    return kind_type is str and _utf8(value)  # type: ignore[arg-type]


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: kept as escaped JSON instead
        return False
    return True


def tag(value: object) -> Any:
    """A value as JSON that `untag` turns back into the same value of the same type."""
    kind = type(value)
    if value is None or kind in (bool, int, float, str):
        return value
    if kind is dt.date:
        return {"d": value.isoformat()}  # type: ignore[attr-defined]
    if kind in (dt.datetime, dt.time):
        if value.tzinfo is not None and not _iso_offset(value.tzinfo):  # type: ignore[attr-defined]
            raise UncacheableError(repr(value.tzinfo))  # type: ignore[attr-defined]
        return {"dt" if kind is dt.datetime else "t": [value.isoformat(), value.fold]}  # type: ignore[attr-defined]
    if kind is dt.timedelta:
        return {"td": [value.days, value.seconds, value.microseconds]}  # type: ignore[attr-defined]
    if kind is Decimal:
        return {"dec": str(value)}
    if kind is Scope:
        return {"scope": str(value)}
    if kind in (list, tuple):
        return {"list" if kind is list else "tuple": [tag(v) for v in value]}  # type: ignore[attr-defined]
    raise UncacheableError(kind.__name__)


def _iso_offset(zone: dt.tzinfo) -> bool:
    """Whether ISO 8601 text gives the zone back: a fixed offset, unnamed, of whole seconds (Python 3.11 reads
    an offset's microseconds as none)."""
    if type(zone) is not dt.timezone:
        return False
    offset = zone.utcoffset(None)
    return not offset.microseconds and zone.tzname(None) == dt.timezone(offset).tzname(None)


def untag(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    (name, raw), = data.items()
    readers: dict[str, Any] = {
        "d": dt.date.fromisoformat, "dt": lambda v: dt.datetime.fromisoformat(v[0]).replace(fold=v[1]),
        "t": lambda v: dt.time.fromisoformat(v[0]).replace(fold=v[1]),
        "td": lambda v: dt.timedelta(days=v[0], seconds=v[1], microseconds=v[2]), "dec": Decimal, "scope": Scope,
        "list": lambda v: [untag(x) for x in v], "tuple": lambda v: tuple(untag(x) for x in v)}
    return readers[name](raw)


def _dumps(value: object) -> str:
    # ASCII: a lone surrogate travels as an escape, and JSON keeps NaN and the infinities (Python's reading).
    return json.dumps(tag(value), ensure_ascii=True)


def _meta(p: ParsedReturn) -> str:
    """Everything of a parse but its lines, as tagged JSON."""
    for key, lines in p.tables.items():
        spec = layout.SHEETS_BY_KEY.get(key)
        if spec is None or spec.is_form or not set(lines.values) <= {f.key for f in spec.fields}:
            raise UncacheableError(key)
        if any(type(r) is not int or not _INT64[0] <= r <= _INT64[1] for r in lines.rows) or any(
                len(v) != len(lines.rows) for v in lines.values.values()):
            raise UncacheableError(key)
    return json.dumps({
        "file": p.file, "sha256": p.sha256,
        "projet": {f.name: tag(getattr(p.projet, f.name)) for f in dataclasses.fields(Projet)},
        "projet_cells": dict(p.projet_cells), "projet_errors": {k: list(v) for k, v in p.projet_errors.items()},
        "tables": [[key, len(lines), list(lines.values)] for key, lines in p.tables.items()],
        "columns": {k: dict(v) for k, v in p.columns.items()}, "sheet_names": dict(p.sheet_names),
        "findings": [[tag(getattr(f, name.name)) for name in dataclasses.fields(Finding)] for f in p.findings],
        "unreadable": sorted([list(u) for u in p.unreadable], key=repr), "content_key": p.content_key,
    }, ensure_ascii=True)


def _from_meta(text: str, tables: Mapping[str, Lines]) -> ParsedReturn:
    data = json.loads(text)
    projet = Projet(**{k: untag(v) for k, v in data["projet"].items()})
    names = [f.name for f in dataclasses.fields(Finding)]
    return ParsedReturn(
        file=data["file"], sha256=data["sha256"], projet=projet, projet_cells=data["projet_cells"],
        projet_errors={k: (v[0], v[1], v[2]) for k, v in data["projet_errors"].items()}, tables=dict(tables),
        columns=data["columns"], sheet_names=data["sheet_names"],
        findings=tuple(Finding(**{n: untag(v) for n, v in zip(names, f, strict=True)}) for f in data["findings"]),
        unreadable=frozenset((u[0], u[1], u[2]) for u in data["unreadable"]), content_key=data["content_key"])


def _sheet_schema(spec: layout.SheetLayout) -> pa.Schema:
    import pyarrow as pa

    fields = [pa.field(_KEY, pa.string()), pa.field(_ROW, pa.int64())]
    for f in spec.fields:
        fields += [pa.field(f.key, _arrow_type(f.kind)), pa.field(f.key + _ODD, pa.string())]
    return pa.schema(fields)


def _write_batch(folder: Path, batch: str, rows: Sequence[tuple[str, ParsedReturn]]) -> list[str]:
    """Write one batch of parses; the keys written (a parse the cache cannot give back exactly is left out)."""
    import pyarrow as pa

    metas: list[tuple[str, str, ParsedReturn]] = []
    for key, p in rows:
        try:
            metas.append((key, _meta(p), p))
        except (UncacheableError, ValueError, TypeError):
            continue
    columns: dict[str, dict[str, list[Any]]] = {
        s.key: {name: [] for name in _sheet_schema(s).names} for s in layout.TABLE_SHEETS}
    kept: list[tuple[str, str]] = []
    for key, meta, p in metas:
        try:
            encoded = {sheet: _encode_lines(layout.SHEETS_BY_KEY[sheet], lines) for sheet, lines in p.tables.items()}
        except UncacheableError:
            continue
        kept.append((key, meta))
        for sheet, (rows_of, values) in encoded.items():
            out = columns[sheet]
            out[_KEY].extend([key] * len(rows_of))
            out[_ROW].extend(rows_of)
            for name, column in values.items():
                out[name].extend(column)
    if not kept:
        return []
    folder.mkdir(parents=True, exist_ok=True)
    for spec in layout.TABLE_SHEETS:
        _write_table(folder / f"{batch}.{spec.key}.parquet", pa.table(columns[spec.key], schema=_sheet_schema(spec)))
    _write_table(folder / f"{batch}.{_META}.parquet",
                 pa.table({_KEY: [k for k, _ in kept], _META: [m for _, m in kept]}, schema=_meta_schema()))
    return [k for k, _ in kept]


def _encode_lines(spec: layout.SheetLayout, lines: Lines) -> tuple[list[int], dict[str, list[Any]]]:
    """A sheet's lines as the batch's columns: each value in its kind's column, or as tagged JSON beside it."""
    n = len(lines.rows)
    out: dict[str, list[Any]] = {}
    for f in spec.fields:
        values = lines.values.get(f.key, [None] * n)
        if _all_fit(f.kind, values):
            out[f.key], out[f.key + _ODD] = list(values), [None] * n
            continue
        natural: list[Any] = []
        odd: list[str | None] = [None] * n
        for i, value in enumerate(values):
            if value is None or _fits(f.kind, value):
                natural.append(value)
            else:
                natural.append(None)
                odd[i] = _dumps(value)
        out[f.key] = natural
        out[f.key + _ODD] = odd
    return list(lines.rows), out


#: The one type of value each kind's Arrow column gives back as it is (`_fits`, for a whole column).
_NATURAL: Final = {Kind.INT: int, Kind.TITRE: int, Kind.AMOUNT: float, Kind.NUMBER: float, Kind.DATE: dt.date}


def _all_fit(kind: Kind, values: Sequence[Any]) -> bool:
    """Whether every value of a column is None or `_fits` its kind, found column by column (the cache stores
    millions of values, nearly all of their kind's type). False sends the column to `_fits`, value by value."""
    natural = _NATURAL.get(kind, str)
    types = set(map(type, values))
    types.discard(type(None))
    if not types:
        return True
    if types != {natural}:
        return False
    present = [v for v in values if v is not None]
    if natural is int:
        return bool(_INT64[0] <= min(present) and max(present) <= _INT64[1])
    if natural is str:
        return _utf8("".join(present))
    return True


def _meta_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(_KEY, pa.string()), pa.field(_META, pa.string())])


def _read_table(path: Path, schema: pa.Schema) -> pa.Table:
    """A batch file, refused unless it has exactly the schema this version writes."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if not table.schema.equals(schema, check_metadata=False):
        raise ValueError(f"{path.name} : colonnes inattendues")
    return table


def _write_table(target: Path, table: pa.Table) -> None:
    import pyarrow.parquet as pq

    with atomic_path(target) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _load_batch(folder: Path, batch: str, keys: Sequence[str]) -> dict[str, ParsedReturn]:
    """The parses of `keys` from one batch, checked whole: a key must have every line its form says."""
    import pyarrow as pa
    import pyarrow.compute as pc  # type: ignore[import-untyped]

    wanted = pa.array(sorted(keys), type=pa.string())
    meta = _read_table(folder / f"{batch}.{_META}.parquet", _meta_schema())
    meta = meta.filter(pc.is_in(meta[_KEY], value_set=wanted))
    texts = dict(zip(meta[_KEY].to_pylist(), meta[_META].to_pylist(), strict=True))
    if len(texts) != len(keys):
        raise ValueError(f"{len(keys) - len(texts)} remontée(s) de l'index absente(s) du lot")
    lines: dict[str, dict[str, Lines]] = {k: {} for k in texts}
    for spec in layout.TABLE_SHEETS:
        table = _read_table(folder / f"{batch}.{spec.key}.parquet", _sheet_schema(spec))
        table = table.filter(pc.is_in(table[_KEY], value_set=wanted))
        for key, sheet_lines in _decode_lines(spec, table).items():
            if key in lines:
                lines[key][spec.key] = sheet_lines
    out: dict[str, ParsedReturn] = {}
    for key, text in texts.items():
        shape = json.loads(text)["tables"]
        tables: dict[str, Lines] = {}
        for sheet, n, value_keys in shape:
            found = lines[key].get(sheet) or Lines([], {k: [] for k in value_keys})
            if len(found) != n:
                raise ValueError(f"{key} : {len(found)} ligne(s) de {sheet} pour {n}")
            tables[sheet] = Lines(found.rows, {k: found.values[k] for k in value_keys})
        out[key] = _from_meta(text, tables)
    return out


def _decode_lines(spec: layout.SheetLayout, table: pa.Table) -> dict[str, Lines]:
    """A sheet's filtered lines, split by key: each key's lines are contiguous, as they were written."""
    keys = table[_KEY].to_pylist()
    rows = table[_ROW].to_pylist()
    columns: dict[str, list[Any]] = {}
    for f in spec.fields:
        natural = table[f.key].to_pylist()
        odd = table[f.key + _ODD]
        if odd.null_count < len(odd):
            natural = [v if x is None else untag(json.loads(x)) for v, x in zip(natural, odd.to_pylist(), strict=True)]
        columns[f.key] = natural
    out: dict[str, Lines] = {}
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            if keys[start] in out:
                raise ValueError(f"lignes de {keys[start]} dispersées")
            out[keys[start]] = Lines(rows[start:i], {k: v[start:i] for k, v in columns.items()})
            start = i
    return out


def _compact(folder: Path, batch: str, batches: Sequence[str], entries: Mapping[str, list[Any]]) -> set[str]:
    """Rewrite the live keys of `batches` into one batch, as Arrow tables (no value goes through Python)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    schemas = {spec.key: _sheet_schema(spec) for spec in layout.TABLE_SHEETS}
    schemas[_META] = _meta_schema()
    moved: set[str] = set()
    tables: dict[str, list[pa.Table]] = {name: [] for name in schemas}
    for old in batches:
        try:
            parts = {name: _read_table(folder / f"{old}.{name}.parquet", schema) for name, schema in schemas.items()}
        except Exception as exc:  # noqa: BLE001 - a damaged batch is dropped, its returns read again next run
            log.warning("Le cache des remontées lues est endommagé (%s : %s) ; ces remontées seront relues.", old,
                        _reason(exc))
            continue
        live = pa.array(sorted(k for k, v in entries.items() if v[0] == old), type=pa.string())
        for name, table in parts.items():
            tables[name].append(table.filter(pc.is_in(table[_KEY], value_set=live)))
        moved.update(k for k in tables[_META][-1][_KEY].to_pylist())
    for name, schema in schemas.items():
        _write_table(folder / f"{batch}.{name}.parquet",
                     pa.concat_tables(tables[name]) if tables[name] else schema.empty_table())
    return moved
