"""What a leaf of the audit tree commits to: a record's row, serialised canonically, and its RFC 6962 leaf hash.

The writer hashes the row it inserts (``clearance.audit.store``'s ``_row``) and the verifier hashes the row it
reads back, so the serialisation depends only on the values, never on how a backend returns them: every column of
``audit_records`` but ``id`` (whose order the tree itself commits to), keys sorted, nulls left out (so a column
added later, null in older rows, leaves their leaves unchanged), datetimes in UTC as ``YYYY-MM-DDTHH:MM:SS.ffffffZ``
(SQLite gives them back without a zone: they were written in UTC), whole floats as integers (a float column may give
back ``5.0`` for ``5``), JSON compact with sorted keys. It is generic over the columns: a new column is covered as
soon as the writer fills it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from clearance.audit.merkle import leaf_hash
from clearance.db.tables import audit_records

_EXCLUDED = frozenset({"id"})
_COLUMNS = tuple(str(column.name) for column in audit_records.columns if column.name not in _EXCLUDED)


_AS_IS = frozenset({str, int, bool, type(None)})


def _canonical(value: Any) -> Any:
    if type(value) in _AS_IS:  # most columns: skip the checks below (the writer hashes every record)
        return value
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def leaf_fields(row: Mapping[str, Any]) -> dict[str, Any]:
    """A record's row as JSON values: its columns (``id`` aside), nulls left out, datetimes and floats canonical."""
    return {name: _canonical(value) for name in _COLUMNS if (value := row.get(name)) is not None}


def leaf_data(row: Mapping[str, Any]) -> bytes:
    """The bytes a record's leaf hashes: its row's columns (``id`` aside), canonical JSON in UTF-8."""
    fields = leaf_fields(row)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def record_leaf_hash(row: Mapping[str, Any]) -> bytes:
    """The RFC 6962 leaf hash of a record's row: SHA-256(0x00 || ``leaf_data(row)``)."""
    return leaf_hash(leaf_data(row))
