"""``clearance audit verify``'s checks: every record against the tree, the tree against the signed checkpoints.

Offline, from the database and saved checkpoints, with only the verifier key. ``read_trail`` reads what the database
holds (each record's row, hashed as the writer hashed it, and the leaves); ``load_checkpoints`` opens the saved
checkpoints (a directory, plus those the database kept), refusing any no trusted key signed; ``verify`` compares,
and reports by request id:

- **modified**: a record's row no longer hashes to its leaf;
- **deleted**: a leaf whose record is gone (or a leaf itself missing from the sequence);
- **inserted**: a record (after the tree began) that is no leaf;
- **reordered**: leaves out of the records' insert order (their ids rise with the leaf index when written);
- **tail_cut**: the tree is smaller than a signed checkpoint: records after it were removed, leaves and all;
- **rebuilt**: the leaves no longer give a signed checkpoint's root: the tree was rewritten to match changed
  records; the finding names the range of leaves that holds the change (between the last checkpoint that still
  matches and the first that does not);
- **forked**: two signed checkpoints of one size with different roots, or a later one that does not extend an
  earlier one (the consistency proof computed from the leaves fails);
- **bad_checkpoint**: a saved checkpoint that does not open with the verifier key;
- **head**: the stored tree head disagrees with the leaves (the writer would append to a different tree);
- **unsanctioned_purge**: a tombstone (``audit_tombstones``) that no checkpoint signed with the verifier key names
  (``clearance.audit.purge``): its record's deletion or change is reported as well, as ``deleted`` or ``modified``.

A record that a purge deleted, or emptied of its text, under a tombstone a signed checkpoint names is no finding: it
is listed apart (``VerifyReport.purged``, kinds ``purged`` and ``text_purged``).

Where leaves are reordered, roots are computed with the leaves put back in insert order, so that a reordering is
reported as one and does not also show as a rebuilt tree.

``verify_record`` checks one record the same way, for the admin API's story of a record: its row still hashes to
its leaf, and the leaves up to the newest signed checkpoint that covers it rebuild that checkpoint's root. Rebuilding
reads every leaf up to the checkpoint once; ``VerifiedLeaves`` then keeps a digest per ``CHUNK`` leaves of that
checkpoint, so each later record is checked by reading its own chunk only (a leaf changed after the first check
still shows), and the cost stays bounded however many records are looked at.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import Connection, Engine, select

from clearance.audit.checkpoint import Checkpoint, open_checkpoint
from clearance.audit.checkpointer import IntegrityConfig
from clearance.audit.export import SUFFIX
from clearance.audit.leaf import record_leaf_hash
from clearance.audit.merkle import MerkleFrontier, consistency_proof, verify_consistency
from clearance.audit.note import NoteVerifier, load_signer
from clearance.audit.purge import PurgedLeaf, purge_extension
from clearance.audit.tree import read_head
from clearance.db.tables import audit_checkpoints, audit_leaves, audit_purges, audit_records, audit_tombstones
from clearance.exceptions import IntegrityError, ProofFailed

FindingKind = Literal[
    "modified",
    "deleted",
    "inserted",
    "reordered",
    "tail_cut",
    "rebuilt",
    "forked",
    "bad_checkpoint",
    "head",
    "unsanctioned_purge",
    "purged",
    "text_purged",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing verification found wrong. ``leaf_index`` .. ``last_leaf_index`` is the range of leaves concerned,
    where known; ``request_id`` the record's, where known."""

    kind: FindingKind
    request_id: str | None
    detail: str
    leaf_index: int | None = None
    last_leaf_index: int | None = None
    record_id: int | None = None


@dataclass(frozen=True, slots=True)
class StoredRecord:
    record_id: int
    request_id: str
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class StoredLeaf:
    leaf_index: int
    record_id: int
    request_id: str
    leaf_hash: bytes


@dataclass(frozen=True, slots=True)
class StoredTombstone:
    """A purge's tombstone as the database holds it (``clearance.audit.purge``)."""

    leaf_index: int
    record_id: int
    request_id: str
    leaf_hash: bytes
    kept_hash: bytes | None
    purge_id: int


@dataclass(frozen=True, slots=True)
class Trail:
    """What the database holds: the records after the tree began (hashed now), the leaves, the head's size."""

    records: tuple[StoredRecord, ...]
    leaves: tuple[StoredLeaf, ...]
    head_size: int
    head_root: bytes
    base_record_id: int
    notes: tuple[tuple[int, str], ...]
    """The checkpoints the database kept, ``(size, signed note)``: opened like saved ones, but the database's
    operator can delete them; only the saved ones prove a tail was cut."""
    tombstones: tuple[StoredTombstone, ...] = ()


@dataclass(frozen=True, slots=True)
class SavedCheckpoint:
    source: str
    checkpoint: Checkpoint


@dataclass(frozen=True, slots=True)
class CheckpointStatus:
    """How one checkpoint fared: ``root_matches`` is None where the tree cannot give its root (too small, or a leaf
    missing below its size); ``extends_previous`` None where there was no verifiable earlier one."""

    source: str
    size: int
    root_matches: bool | None
    extends_previous: bool | None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    records: int
    leaves: int
    base_record_id: int
    checkpoints: tuple[CheckpointStatus, ...]
    findings: tuple[Finding, ...]
    purged: tuple[Finding, ...] = ()
    """Records purged under a signed tombstone checkpoint (kinds ``purged``, ``text_purged``): not findings."""

    @property
    def ok(self) -> bool:
        return not self.findings


def read_trail(engine: Engine) -> Trail:
    """Read the tree and every record after its base, hashing each row as the writer did."""
    with engine.connect() as connection:
        head = read_head(connection)
        rows = connection.execute(
            select(audit_records).where(audit_records.c.id > head.base_record_id).order_by(audit_records.c.id)
        )
        records = tuple(
            StoredRecord(int(row.id), str(row.request_id), record_leaf_hash(dict(row._mapping))) for row in rows
        )
        leaves = tuple(
            StoredLeaf(int(r.leaf_index), int(r.record_id), str(r.request_id), bytes(r.leaf_hash))
            for r in connection.execute(select(audit_leaves).order_by(audit_leaves.c.leaf_index))
        )
        notes = tuple(
            (int(size), str(note))
            for size, note in connection.execute(
                select(audit_checkpoints.c.size, audit_checkpoints.c.note).order_by(audit_checkpoints.c.size)
            )
        )
        purge_notes = tuple(
            (int(size), str(note))
            for size, note in connection.execute(
                select(audit_purges.c.size, audit_purges.c.note).order_by(audit_purges.c.id)
            )
        )
        tombstones = tuple(
            StoredTombstone(
                int(t.leaf_index),
                int(t.record_id),
                str(t.request_id),
                bytes(t.leaf_hash),
                None if t.kept_hash is None else bytes(t.kept_hash),
                int(t.purge_id),
            )
            for t in connection.execute(select(audit_tombstones).order_by(audit_tombstones.c.leaf_index))
        )
    root = head.frontier.root()
    return Trail(records, leaves, head.frontier.size, root, head.base_record_id, notes + purge_notes, tombstones)


def load_checkpoints(
    directory: Path | None,
    database_notes: Iterable[tuple[int, str]],
    verifiers: Sequence[NoteVerifier],
    *,
    origin: str | None = None,
) -> tuple[list[SavedCheckpoint], list[Finding]]:
    """Open the saved checkpoints (``*.checkpoint`` files in ``directory``, then the database's), each with the
    verifier keys. Those that do not open are findings; one checkpoint seen in both places counts once (a purge's
    checkpoint, of the same size and root as another but with its extension line, counts apart)."""
    sources: list[tuple[str, str | bytes]] = []
    if directory is not None:  # bytes: a file that is not UTF-8 is a malformed note, not a crash
        sources += [(path.name, path.read_bytes()) for path in sorted(directory.glob(f"*{SUFFIX}"))]
    sources += [(f"database checkpoint {size}", note) for size, note in database_notes]
    opened: list[SavedCheckpoint] = []
    findings: list[Finding] = []
    seen: set[tuple[int, bytes, tuple[str, ...]]] = set()
    for source, note in sources:
        try:
            checkpoint = open_checkpoint(note, verifiers, origin=origin)
        except IntegrityError as exc:
            findings.append(Finding("bad_checkpoint", None, f"{source}: {exc.message}"))
            continue
        key = (checkpoint.size, checkpoint.root_hash, checkpoint.extensions)
        if key not in seen:
            seen.add(key)
            opened.append(SavedCheckpoint(source, checkpoint))
    return opened, findings


def verify(trail: Trail, checkpoints: Sequence[SavedCheckpoint]) -> VerifyReport:
    """Every check, in the order of the module docstring's list."""
    sanctioned, findings = _tombstone_findings(trail, checkpoints)
    purged, record_findings = _record_findings(trail, sanctioned)
    findings += record_findings
    statuses, tree_findings = _checkpoint_findings(trail, checkpoints)
    findings += tree_findings
    tree_size = trail.leaves[-1].leaf_index + 1 if trail.leaves else 0
    if trail.head_size != tree_size:
        findings.append(
            Finding("head", None, f"the tree head says {trail.head_size} leaves; audit_leaves holds {tree_size}")
        )
    elif len(trail.leaves) == tree_size:
        in_order = [leaf.leaf_hash for leaf in sorted(trail.leaves, key=lambda leaf: leaf.record_id)]
        if MerkleFrontier.of(in_order).root() != trail.head_root:
            findings.append(Finding("head", None, "the tree head's frontier does not give the leaves' root"))
    return VerifyReport(
        len(trail.records), len(trail.leaves), trail.base_record_id, statuses, tuple(findings), tuple(purged)
    )


def _tombstone_findings(
    trail: Trail, checkpoints: Sequence[SavedCheckpoint]
) -> tuple[dict[int, StoredTombstone], list[Finding]]:
    """The tombstones a signed checkpoint names (by leaf index), and a finding for each one none names: a purge is
    sanctioned when a checkpoint signed with the verifier key carries the extension line of its tombstones, all of
    them, and each tombstone names the leaf the tree holds at its index."""
    signed = {line for saved in checkpoints for line in saved.checkpoint.extensions}
    leaves = {leaf.leaf_index: leaf for leaf in trail.leaves}
    purges: dict[int, list[StoredTombstone]] = {}
    for tombstone in trail.tombstones:
        purges.setdefault(tombstone.purge_id, []).append(tombstone)
    sanctioned: dict[int, StoredTombstone] = {}
    findings: list[Finding] = []
    for purge_id, tombstones in sorted(purges.items()):
        line = purge_extension([PurgedLeaf(t.leaf_index, t.leaf_hash, t.kept_hash) for t in tombstones])
        for tombstone in tombstones:
            leaf = leaves.get(tombstone.leaf_index)
            if line not in signed:
                why = f"no signed checkpoint names purge {purge_id} as its {len(tombstones)} tombstones stand"
            elif leaf is None or (leaf.record_id, leaf.leaf_hash) != (tombstone.record_id, tombstone.leaf_hash):
                why = f"the tombstone of purge {purge_id} does not name the leaf the tree holds at its index"
            else:
                sanctioned[tombstone.leaf_index] = tombstone
                continue
            where = (tombstone.leaf_index, tombstone.leaf_index, tombstone.record_id)
            findings.append(Finding("unsanctioned_purge", tombstone.request_id, why, *where))
    return sanctioned, findings


def _record_findings(trail: Trail, sanctioned: dict[int, StoredTombstone]) -> tuple[list[Finding], list[Finding]]:
    """The records purged under a sanctioned tombstone, and the findings."""
    purged: list[Finding] = []
    findings: list[Finding] = []
    records = {r.record_id: r for r in trail.records}
    present = {leaf.leaf_index for leaf in trail.leaves}
    tree_size = trail.leaves[-1].leaf_index + 1 if trail.leaves else 0
    for index in range(tree_size):
        if index not in present:
            findings.append(Finding("deleted", None, f"leaf {index} is missing from the tree", index, index))
    for leaf in trail.leaves:
        record = records.get(leaf.record_id)
        where = (leaf.leaf_index, leaf.leaf_index, leaf.record_id)
        tombstone = sanctioned.get(leaf.leaf_index)
        if record is None:
            if tombstone is not None and tombstone.kept_hash is None:
                purged.append(Finding("purged", leaf.request_id, f"record {leaf.record_id} purged", *where))
            else:
                findings.append(Finding("deleted", leaf.request_id, f"record {leaf.record_id} is gone", *where))
        elif record.leaf_hash != leaf.leaf_hash:
            if tombstone is not None and record.leaf_hash == tombstone.kept_hash:
                detail = f"record {leaf.record_id}'s text purged; the rest is as the purge signed it"
                purged.append(Finding("text_purged", leaf.request_id, detail, *where))
            else:
                findings.append(Finding("modified", leaf.request_id, f"record {leaf.record_id} changed", *where))
    referenced = {leaf.record_id for leaf in trail.leaves}
    for record in trail.records:
        if record.record_id not in referenced:
            detail = f"record {record.record_id} is in no leaf: written around the gateway"
            findings.append(Finding("inserted", record.request_id, detail, record_id=record.record_id))
    in_order = sorted(leaf.record_id for leaf in trail.leaves)
    for leaf, expected in zip(trail.leaves, in_order, strict=True):
        if leaf.record_id != expected:
            detail = f"leaf {leaf.leaf_index} holds record {leaf.record_id}; insert order puts record {expected} there"
            findings.append(
                Finding("reordered", leaf.request_id, detail, leaf.leaf_index, leaf.leaf_index, leaf.record_id)
            )
    return purged, findings


def _roots_at(hashes: Sequence[bytes], sizes: set[int]) -> dict[int, bytes]:
    """The root of the first ``size`` leaves for each size wanted, in one pass."""
    roots: dict[int, bytes] = {}
    frontier = MerkleFrontier()
    if 0 in sizes:
        roots[0] = frontier.root()
    for leaf in hashes:
        frontier = frontier.append(leaf)
        if frontier.size in sizes:
            roots[frontier.size] = frontier.root()
    return roots


def _checkpoint_findings(
    trail: Trail, checkpoints: Sequence[SavedCheckpoint]
) -> tuple[tuple[CheckpointStatus, ...], list[Finding]]:
    findings: list[Finding] = []
    leaves = sorted(trail.leaves, key=lambda leaf: leaf.record_id)  # insert order: a reordering is reported above
    hashes = [leaf.leaf_hash for leaf in leaves]
    tree_size = trail.leaves[-1].leaf_index + 1 if trail.leaves else 0
    first_gap = next((i for i, leaf in enumerate(trail.leaves) if leaf.leaf_index != i), None)
    complete = tree_size if first_gap is None else first_gap  # roots are computable up to here
    ordered = sorted(checkpoints, key=lambda saved: saved.checkpoint.size)
    roots = _roots_at(hashes, {saved.checkpoint.size for saved in ordered if saved.checkpoint.size <= complete})
    statuses: list[CheckpointStatus] = []
    last_good: SavedCheckpoint | None = None
    rebuilt = False
    for position, saved in enumerate(ordered):
        size = saved.checkpoint.size
        root_hash = saved.checkpoint.root_hash
        twin = next(
            (o for o in ordered[:position] if o.checkpoint.size == size and o.checkpoint.root_hash != root_hash), None
        )
        if twin is not None:
            detail = f"{twin.source} and {saved.source} are both signed for size {size} with different roots"
            findings.append(Finding("forked", None, detail))
        root = roots.get(size)
        matches = None if root is None else root == saved.checkpoint.root_hash
        extends = None
        if matches and last_good is not None:
            extends = _extends(hashes[:size], last_good.checkpoint, saved.checkpoint)
            if not extends:
                detail = f"{saved.source} does not extend {last_good.source}: the consistency proof fails"
                findings.append(Finding("forked", None, detail))
        if matches is False and not rebuilt:
            rebuilt = True
            low = last_good.checkpoint.size if last_good is not None else 0
            findings.append(_rebuilt(leaves, low, size, saved.source))
        statuses.append(CheckpointStatus(saved.source, size, matches, extends))
        if matches:
            last_good = saved
    if ordered and ordered[-1].checkpoint.size > tree_size:
        latest = ordered[-1]
        cut = latest.checkpoint.size - tree_size
        last = trail.leaves[-1].request_id if trail.leaves else None
        detail = (
            f"{latest.source} signs {latest.checkpoint.size} leaves; the tree holds {tree_size}: "
            f"the {cut} records after {'request ' + last if last else 'the start'} were removed"
        )
        findings.append(Finding("tail_cut", last, detail, tree_size, latest.checkpoint.size - 1))
    return tuple(statuses), findings


def _extends(hashes: Sequence[bytes], old: Checkpoint, new: Checkpoint) -> bool:
    try:
        proof = consistency_proof(hashes, old.size)
        verify_consistency(old.size, new.size, old.root_hash, new.root_hash, proof)
    except ProofFailed:
        return False
    return True


def _rebuilt(leaves: Sequence[StoredLeaf], low: int, high: int, source: str) -> Finding:
    first = leaves[low].request_id if low < len(leaves) else None
    last = leaves[high - 1].request_id if 0 < high <= len(leaves) else None
    detail = (
        f"the leaves no longer give {source}'s root: the tree was rewritten; the change lies in leaves "
        f"{low}..{high - 1} (requests {first} to {last})"
    )
    return Finding("rebuilt", first, detail, low, high - 1)


CHUNK = 1024
"""Leaves per digest that ``VerifiedLeaves`` keeps of a verified checkpoint."""

RecordIntegrityState = Literal["verified", "failed", "not_checkpointed", "before_tree", "off"]


@dataclass(frozen=True, slots=True)
class RecordIntegrity:
    """Where one record stands: ``verified`` up to ``checkpoint`` (its size), ``failed`` (``detail`` says what),
    ``not_checkpointed`` (no signed checkpoint covers its leaf yet), ``before_tree`` (written before the tree
    began: nothing covers it), or ``off`` (no verifier key: integrity is not configured)."""

    state: RecordIntegrityState
    detail: str
    leaf_index: int | None = None
    first_checkpoint: int | None = None
    """The size of the first checkpoint that covers the record's leaf (the first to prove it)."""
    checkpoint: int | None = None
    """The size of the checkpoint it was verified against (the newest that covers it)."""


@dataclass(frozen=True, slots=True)
class RecordVerifier:
    """What checking a record needs: the verifier keys and the log's origin (``audit.integrity``)."""

    verifiers: tuple[NoteVerifier, ...]
    origin: str

    @classmethod
    def from_config(cls, config: IntegrityConfig) -> RecordVerifier | None:
        """The signing key's own verifier; None without a key (integrity off)."""
        if config.signing_key is None:
            return None
        signer = load_signer(config.signing_key)
        return cls((signer.verifier(),), config.origin or signer.name)


class VerifiedLeaves:
    """The digests (SHA-256) of each ``CHUNK`` leaves of the newest checkpoint whose leaves rebuilt its root: one
    checkpoint at a time, so memory holds ``size / CHUNK`` digests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: tuple[tuple[int, bytes], tuple[bytes, ...]] | None = None

    def get(self, checkpoint: Checkpoint) -> tuple[bytes, ...] | None:
        with self._lock:
            held = self._held
        if held is None or held[0] != (checkpoint.size, checkpoint.root_hash):
            return None
        return held[1]

    def keep(self, checkpoint: Checkpoint, digests: tuple[bytes, ...]) -> None:
        with self._lock:
            if self._held is None or self._held[0][0] <= checkpoint.size:
                self._held = ((checkpoint.size, checkpoint.root_hash), digests)


def _chunk_digests(hashes: Sequence[bytes]) -> tuple[bytes, ...]:
    return tuple(hashlib.sha256(b"".join(hashes[i : i + CHUNK])).digest() for i in range(0, len(hashes), CHUNK))


def _leaf_hashes(connection: Connection, low: int, high: int) -> list[bytes] | None:
    """The hashes of leaves ``low`` .. ``high - 1`` in order; None where one is missing."""
    rows = connection.execute(
        select(audit_leaves.c.leaf_index, audit_leaves.c.leaf_hash)
        .where(audit_leaves.c.leaf_index >= low, audit_leaves.c.leaf_index < high)
        .order_by(audit_leaves.c.leaf_index)
    ).all()
    if [int(index) for index, _ in rows] != list(range(low, high)):
        return None
    return [bytes(digest) for _, digest in rows]


def _text_purged(connection: Connection, leaf: StoredLeaf, row_hash: bytes, verifier: RecordVerifier) -> bool:
    """Whether the record's row is the one a sanctioned purge left (its text emptied): a tombstone for its leaf
    keeps that row's hash, and a checkpoint signed with the verifier key names that purge's tombstones."""
    tombstone = connection.execute(
        select(audit_tombstones).where(audit_tombstones.c.leaf_index == leaf.leaf_index)
    ).first()
    if tombstone is None or tombstone.kept_hash is None or bytes(tombstone.kept_hash) != row_hash:
        return False
    if bytes(tombstone.leaf_hash) != leaf.leaf_hash:
        return False
    siblings = connection.execute(
        select(audit_tombstones)
        .where(audit_tombstones.c.purge_id == tombstone.purge_id)
        .order_by(audit_tombstones.c.leaf_index)
    ).all()
    line = purge_extension(
        [
            PurgedLeaf(int(t.leaf_index), bytes(t.leaf_hash), None if t.kept_hash is None else bytes(t.kept_hash))
            for t in siblings
        ]
    )
    notes = connection.execute(select(audit_purges.c.note).where(audit_purges.c.id == tombstone.purge_id)).scalars()
    opened, _ = load_checkpoints(None, ((0, str(note)) for note in notes), verifier.verifiers, origin=verifier.origin)
    return any(line in saved.checkpoint.extensions for saved in opened)


def verify_record(
    engine: Engine, record_id: int, verifier: RecordVerifier | None, verified: VerifiedLeaves
) -> RecordIntegrity:
    """Check one record against the newest signed checkpoint that covers its leaf (see the module docstring)."""
    with engine.connect() as connection:
        row = connection.execute(select(audit_records).where(audit_records.c.id == record_id)).first()
        found = connection.execute(select(audit_leaves).where(audit_leaves.c.record_id == record_id)).first()
        if row is None or found is None:
            if row is not None and record_id <= read_head(connection).base_record_id:
                return RecordIntegrity("before_tree", "this record was written before the audit tree began")
            return RecordIntegrity(
                "failed", f"record {record_id} is in no leaf of the audit tree: written around the gateway"
            )
        leaf = StoredLeaf(int(found.leaf_index), record_id, str(found.request_id), bytes(found.leaf_hash))
        if verifier is None:
            off = "audit integrity is off (no audit.integrity.signing_key): nothing is signed"
            return RecordIntegrity("off", off, leaf.leaf_index)
        notes = connection.execute(
            select(audit_checkpoints.c.size, audit_checkpoints.c.note)
            .where(audit_checkpoints.c.size > leaf.leaf_index)
            .order_by(audit_checkpoints.c.size)
        ).all()
        at = leaf.leaf_index
        if not notes:
            return RecordIntegrity("not_checkpointed", "no signed checkpoint covers this record yet", at)
        first = int(notes[0].size)
        opened, bad = load_checkpoints(
            None, [(int(notes[-1].size), str(notes[-1].note))], verifier.verifiers, origin=verifier.origin
        )
        if bad:
            return RecordIntegrity("failed", bad[0].detail, at, first, int(notes[-1].size))
        checkpoint = opened[0].checkpoint
        size = checkpoint.size
        row_hash = record_leaf_hash(dict(row._mapping))
        if row_hash != leaf.leaf_hash and not _text_purged(connection, leaf, row_hash, verifier):
            detail = f"record {record_id} changed since it was written: its row no longer hashes to leaf {at}"
            return RecordIntegrity("failed", detail, at, first, size)
        digests = verified.get(checkpoint)
        if digests is None:
            hashes = _leaf_hashes(connection, 0, size)
            if (
                hashes is None
                or hashes[at] != leaf.leaf_hash
                or _roots_at(hashes, {size}).get(size) != checkpoint.root_hash
            ):
                detail = (
                    f"the leaves no longer give checkpoint {size}'s root: the trail was rewritten "
                    "(run clearance audit verify to find where)"
                )
                return RecordIntegrity("failed", detail, at, first, size)
            verified.keep(checkpoint, _chunk_digests(hashes))
        else:
            low = at - at % CHUNK
            chunk = _leaf_hashes(connection, low, min(low + CHUNK, size))
            if chunk is None or chunk[at - low] != leaf.leaf_hash or _chunk_digests(chunk)[0] != digests[low // CHUNK]:
                detail = f"leaves {low}..{min(low + CHUNK, size) - 1} changed since checkpoint {size} was verified"
                return RecordIntegrity("failed", detail, at, first, size)
    return RecordIntegrity("verified", f"integrity verified up to checkpoint {size}", at, first, size)
