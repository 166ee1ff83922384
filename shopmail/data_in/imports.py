"""CSV import of orders and members: decoding, column mapping, row checks, applying.

An upload is kept on disk as `<dir>/<id>.csv` (the bytes as uploaded) with a JSON sidecar
`<id>.json` (kind, file name, encoding, column mapping, result), so every step of the wizard has
a URL and survives a reload. Rows go through `records` — the same checks and upserts as the API.
Orders CSV: one row per order line, rows grouped by store code + order number.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

from flask_babel import lazy_gettext as _l

from shopmail.core import audit
from shopmail.data_in import records
from shopmail.data_in.import_columns import COLUMNS, guess_mapping, label_of
from shopmail.extensions import db
from shopmail.models import User
from shopmail.models.types import utcnow

MAX_ROWS = 50_000
ENCODINGS = {"utf-8-sig": "UTF-8 (BOM)", "utf-8": "UTF-8", "cp932": "Shift_JIS (CP932)"}
_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")


class ImportProblem(ValueError):
    """A file that cannot be imported at all; the message says why."""


@dataclass
class Upload:
    id: str
    kind: str
    filename: str
    encoding: str
    mapping: list[str]  # one field key per column, "" for a column left out
    created_by: str
    created_at: str
    result: dict | None = None

    @property
    def encoding_label(self) -> str:
        return ENCODINGS.get(self.encoding, self.encoding)


@dataclass
class RowError:
    row: int  # as a spreadsheet numbers it: the header is row 1
    column: str
    message: str


@dataclass
class Check:
    header: list[str]
    rows: list[list[str]]
    errors: list[RowError] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)  # row number → reason
    records: int = 0
    valid: int = 0


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in: UTF-8 (with or without BOM), else CP932."""
    unreadable = ImportProblem(
        _l("The file is neither UTF-8 nor Shift_JIS (CP932). Save it as CSV UTF-8 and retry.")
    )
    # UTF-16 (Excel's "Unicode text") or a binary file, which CP932 would happily "decode".
    if b"\x00" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise unreadable
    try:
        text = data.decode("utf-8-sig")
        return text, ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError:
        raise unreadable from None


def save_upload(directory: Path, kind: str, filename: str, data: bytes, actor: User) -> Upload:
    if kind not in COLUMNS:
        raise ImportProblem(_l("Choose what the file contains."))
    text, encoding = decode(data)
    header, rows = _parse(text)
    upload = Upload(
        id=secrets.token_urlsafe(16),
        kind=kind,
        filename=Path(filename or "upload.csv").name[:200],
        encoding=encoding,
        mapping=guess_mapping(kind, header),
        created_by=actor.email,
        created_at=utcnow().isoformat(),
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{upload.id}.csv").write_bytes(data)
    _write(directory, upload)
    return upload


def load_upload(directory: Path, upload_id: str) -> Upload | None:
    path = directory / f"{upload_id}.json"
    if not _ID.fullmatch(upload_id) or not path.is_file():
        return None
    return Upload(**json.loads(path.read_text("utf-8")))


def recent_uploads(directory: Path, limit: int = 10) -> list[Upload]:
    if not directory.is_dir():
        return []
    paths = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    return [u for p in paths[:limit] if (u := load_upload(directory, p.stem)) is not None]


def set_mapping(directory: Path, upload: Upload, mapping: list[str]) -> None:
    known = {column.key for column in COLUMNS[upload.kind]}
    header, _ = read(directory, upload)
    chosen = [key if key in known else "" for key in mapping[: len(header)]]
    upload.mapping = chosen + [""] * (len(header) - len(chosen))
    _write(directory, upload)


def read(directory: Path, upload: Upload) -> tuple[list[str], list[list[str]]]:
    data = (directory / f"{upload.id}.csv").read_bytes()
    return _parse(data.decode(upload.encoding))


def check(directory: Path, upload: Upload) -> Check:
    """Every row checked as it would be imported; nothing is written."""
    result, groups, items, refused = _prepare(directory, upload)
    cache: dict = {}
    for index, item in enumerate(items):
        problems = refused.get(index) or records.validate(upload.kind, item, cache)[1]
        _note(result, upload, groups[index], problems)
        result.valid += not problems
    return result


def apply(directory: Path, upload: Upload, all_or_nothing: bool, actor: User) -> dict:
    """Import the valid rows in one transaction (none when `all_or_nothing` and any is bad)."""
    if upload.result is not None:
        raise ImportProblem(_l("This file has been imported already."))
    result, groups, items, refused = _prepare(directory, upload)
    kept = [index for index in range(len(items)) if index not in refused]
    outcome = records.upsert(
        upload.kind, [items[index] for index in kept], all_or_nothing=all_or_nothing
    )
    problems_of = {**refused, **{kept[i]: p for i, p in outcome.problems.items()}}
    for index, problems in sorted(problems_of.items()):
        _note(result, upload, groups[index], problems)
    applied = not (problems_of and all_or_nothing)
    summary = {
        **outcome.counts,
        "applied": applied,
        "all_or_nothing": all_or_nothing,
        "records": result.records,
        "rejected_rows": len(result.rejected),
        "errors": [asdict(e) for e in result.errors],
        "rejected": {str(k): v for k, v in result.rejected.items()},
    }
    if applied:
        details = {k: summary[k] for k in ("created", "updated", "unchanged", "rejected_rows")}
        audit.record(actor, f"import.{upload.kind}", None, file=upload.filename, **details)
        db.session.flush()  # written before the result is kept; the request commits
    else:
        db.session.rollback()
    upload.result = summary
    _write(directory, upload)
    return summary


def rejected_csv(directory: Path, upload: Upload, reason_label: str) -> bytes:
    """The rejected rows with a reason column, in the upload's own encoding."""
    header, rows = read(directory, upload)
    if upload.result is not None:
        rejected = {int(k): v for k, v in upload.result["rejected"].items()}
    else:
        rejected = check(directory, upload).rejected
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*header, reason_label])
    for number, row in enumerate(rows, start=2):
        if number in rejected:
            # The reason under its own heading, even for a row with more cells than that.
            cells = [*row[: len(header)], *[""] * (len(header) - len(row))]
            extra = row[len(header) :]
            writer.writerow([safe_cell(cell) for cell in (*cells, rejected[number], *extra)])
    return out.getvalue().encode(upload.encoding, errors="replace")


_FORMULA = re.compile(r"[=+\-@\t\r]")
_NUMBER = re.compile(r"-\d[\d,]*(\.\d+)?")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet will not run: one that starts like a formula (=, +, -, @, tab,
    CR) gets a leading apostrophe, so Excel shows it as text. A negative number stays."""
    if _FORMULA.match(value) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def _parse(text: str) -> tuple[list[str], list[list[str]]]:
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ImportProblem(_l("The file is not a readable CSV: %(e)s", e=str(exc))) from None
    if not table or not any(cell.strip() for cell in table[0]):
        raise ImportProblem(_l("The file is empty or has no header row."))
    if len(table) - 1 > MAX_ROWS:
        raise ImportProblem(_l("A file may have at most %(n)s rows.", n=MAX_ROWS))
    return [cell.strip() for cell in table[0]], table[1:]


def _prepare(
    directory: Path, upload: Upload
) -> tuple[Check, list[list[int]], list[dict], dict[int, list[records.Problem]]]:
    """Rows → records: (rows of each record, by spreadsheet row number; the records; the
    records refused before any check, by index: a row with more cells than the header)."""
    header, rows = read(directory, upload)
    result = Check(header=header, rows=rows)
    groups: list[list[int]] = []
    items: list[dict] = []
    by_key: dict[tuple, int] = {}
    overflowing: dict[int, int] = {}  # row number → its cells
    for number, row in enumerate(rows, start=2):
        if any(cell.strip() for cell in row[len(header) :]):
            overflowing[number] = len(row)
        values = {
            key: row[i].strip() if i < len(row) else ""
            for i, key in enumerate(upload.mapping)
            if key
        }
        if not any(values.values()):
            continue  # blank lines, often at the end of a spreadsheet export
        if upload.kind == "orders":
            group_key = (values.get("store", ""), values.get("number", ""))
            if group_key in by_key:
                index = by_key[group_key]
                groups[index].append(number)
                items[index]["lines"].append(_nested(values, "lines."))
                continue
            by_key[group_key] = len(items)
        groups.append([number])
        items.append(_item(upload.kind, values))
    result.records = len(items)
    return result, groups, items, _overflow_problems(groups, overflowing, len(header))


def _overflow_problems(
    groups: list[list[int]], overflowing: dict[int, int], columns: int
) -> dict[int, list[records.Problem]]:
    refused: dict[int, list[records.Problem]] = {}
    for index, rows in enumerate(groups):
        for position, number in enumerate(rows):
            if number in overflowing:
                message = _l(
                    "This row has %(cells)s cells but the header only %(columns)s columns: "
                    "a comma too many, or a value that needs quotes?",
                    cells=overflowing[number],
                    columns=columns,
                )
                field = f"lines[{position}]." if position else ""
                refused.setdefault(index, []).append(records.Problem(field, message))
    return refused


def _item(kind: str, values: dict[str, str]) -> dict:
    if kind == "members":
        return dict(values)
    item = _nested(values, "")
    lines = item.pop("lines", {})
    item["lines"] = [lines]
    if "shipment" in item and not any(item["shipment"].values()):
        del item["shipment"]
    return item


def _nested(values: dict[str, str], prefix: str) -> dict:
    """Flat column keys ("buyer.email") under `prefix` as nested dicts."""
    item: dict = {}
    for key, value in values.items():
        if not key.startswith(prefix):
            continue
        head, _, tail = key[len(prefix) :].partition(".")
        if tail:
            item.setdefault(head, {})[tail] = value
        else:
            item[head] = value
    return item


def _note(result: Check, upload: Upload, rows: list[int], problems: list) -> None:
    own: dict[int, list[str]] = {}
    for problem in problems:
        row, key = _locate(problem.field, rows)
        column = label_of(upload.kind, key)
        message = f"{column}: {problem.message}" if column else str(problem.message)
        result.errors.append(RowError(row, column, str(problem.message)))
        own.setdefault(row, []).append(message)
    if not problems:
        return
    for row in rows:
        result.rejected[row] = " / ".join(own.get(row, [])) or str(
            _l("Another row of the same order has an error (row %(row)s).", row=min(own))
        )


def _locate(path: str, rows: list[int]) -> tuple[int, str]:
    match = re.match(r"lines\[(\d+)\]\.(.*)", path)
    if match and int(match.group(1)) < len(rows):
        return rows[int(match.group(1))], f"lines.{match.group(2)}"
    return rows[0], path


def _write(directory: Path, upload: Upload) -> None:
    path = directory / f"{upload.id}.json"
    temp = path.with_suffix(".tmp")
    temp.write_text(json.dumps(asdict(upload), ensure_ascii=False), "utf-8")
    temp.replace(path)
