"""``ApprovalStore``: approval requests and their transitions in the gateway's database (``clearance.db``).

One row per approval (``approval_requests``) holds its current value; one row per transition
(``approval_transitions``, numbered from 0) holds its history. Every change goes through ``apply``, which reads the
approval, applies a pure function of ``clearance.approvals.lifecycle`` and writes the new state with the new
transitions in one transaction, on the condition that the row's ``version`` (its number of transitions) is still
the one read. Two gateway instances acting on one approval at once: one write wins, the other re-reads and applies
its function again to the new value, so no transition is lost and a grant's one use goes to exactly one of them
(the other gets ``approval_used``). The transition table's key (approval id, seq) backs the same guarantee.

Every write it commits is announced, so a request waiting on the approval is released at once
(``clearance.approvals.signals``): ``on_change`` is called with the id after the commit, in this process; on
PostgreSQL the transaction also sends ``NOTIFY`` on ``NOTIFY_CHANNEL`` with the id, which the database delivers to
every listening gateway instance on commit, and only if the write committed.

Blocking, and safe to share between threads (it holds nothing but a SQLAlchemy engine and the ``on_change``
callable): the gateway calls it through ``asyncio.to_thread``.
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy import Connection

from clearance.approvals.lifecycle import escalate, expire
from clearance.approvals.model import ApprovalRequest, ApprovalState, Requester, ReviewState, Transition
from clearance.db.store import DatabaseStore
from clearance.db.tables import approval_requests, approval_transitions
from clearance.exceptions import ApprovalNotFound, ApprovalStateError, ClearanceError, TooManyPending

DEFAULT_MAX_PENDING: Final = 20
"""How many pending approvals a requester may have at once, unless configured otherwise."""
MAX_ATTEMPTS: Final = 50
"""How often ``apply`` re-reads and retries after losing a race, before it gives up (only under a storm of
concurrent writes to one approval)."""
DEFAULT_LIST_LIMIT: Final = 100
NOTIFY_CHANNEL: Final = "clearance_approvals"
"""The PostgreSQL notification channel every stored change of an approval is announced on (payload: its id)."""


class _LostRace(Exception):
    """Another writer changed the approval between our read and our write."""


@dataclass(frozen=True, slots=True)
class Created:
    """What ``ApprovalStore.create`` did: stored the new approval, or found an identical pending one to reuse."""

    approval: ApprovalRequest
    reused: bool


def _row(approval: ApprovalRequest) -> dict[str, Any]:
    requester = approval.requester
    return {
        "id": approval.id,
        "version": len(approval.history),
        "state": approval.state,
        "requester_subject": requester.subject,
        "requester_kind": requester.kind,
        "requester_email": requester.email,
        "requester_groups": list(requester.groups),
        "requester_key_id": requester.key_id,
        "model": approval.model,
        "endpoint": approval.endpoint,
        "rule": approval.rule,
        "reasons": list(approval.reasons),
        "level": approval.level,
        "counts": dict(approval.counts),
        "preview": approval.preview,
        "body_sha256": approval.body_sha256,
        "policy_version": approval.policy_version,
        "approvers": list(approval.approvers),
        "approvals_needed": approval.approvals_needed,
        "grant_seconds": approval.grant_seconds,
        "created_at": approval.created_at,
        "expires_at": approval.expires_at,
        "requester_reason": approval.requester_reason,
        "released_as": dict(approval.released_as),
        "approver_names": list(approval.approver_names),
        "approved_by": list(approval.approved_by),
        "reason_from": approval.reason_from,
        "escalate_to": list(approval.escalate_to) if approval.escalate_to else None,
        "escalate_at": approval.escalate_at,
        "escalated_at": approval.escalated_at,
        "break_glass": approval.break_glass,
        "review": approval.review,
        "reviewed_by": approval.reviewed_by,
        "reviewed_at": approval.reviewed_at,
        "review_reason": approval.review_reason or None,
    }


def _transition_rows(approval: ApprovalRequest, start: int) -> list[dict[str, Any]]:
    return [
        {"approval_id": approval.id, "seq": seq, "state": t.state, "actor": t.actor, "at": t.at, "reason": t.reason}
        for seq, t in enumerate(approval.history[start:], start=start)
    ]


def _lock_requester(connection: Connection, subject: str) -> None:
    """Serialise, until the transaction ends, every ``create`` for one requester. PostgreSQL: a transaction-level
    advisory lock keyed by the subject's hash (other requesters go on in parallel). SQLite: the database's write
    lock, taken before the look-up (SQLite has one writer at a time anyway)."""
    if connection.dialect.name == "postgresql":
        digest = hashlib.sha256(f"clearance.approvals:{subject}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    elif connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _approval(row: Any, history: Iterable[Any]) -> ApprovalRequest:
    state: ApprovalState = row.state
    return ApprovalRequest(
        id=row.id,
        requester=Requester(
            subject=row.requester_subject,
            kind=row.requester_kind,
            email=row.requester_email,
            groups=tuple(row.requester_groups),
            key_id=row.requester_key_id,
        ),
        model=row.model,
        endpoint=row.endpoint,
        rule=row.rule,
        reasons=tuple(row.reasons),
        level=row.level,
        counts=dict(row.counts),
        preview=row.preview,
        body_sha256=row.body_sha256,
        policy_version=row.policy_version,
        approvers=tuple(row.approvers),
        approvals_needed=row.approvals_needed,
        grant_seconds=row.grant_seconds,
        created_at=row.created_at,
        expires_at=row.expires_at,
        requester_reason=row.requester_reason,
        released_as=dict(row.released_as),
        approver_names=tuple(row.approver_names),
        state=state,
        approved_by=tuple(row.approved_by),
        history=tuple(Transition(t.state, t.actor, t.at, t.reason) for t in history),
        reason_from=row.reason_from,
        escalate_to=tuple(row.escalate_to or ()),
        escalate_at=row.escalate_at,
        escalated_at=row.escalated_at,
        break_glass=bool(row.break_glass),
        review=row.review,
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        review_reason=row.review_reason or "",
    )


def _notify(connection: Connection, approval_id: str) -> None:
    """On PostgreSQL, announce the change to every listening instance when (and if) this transaction commits."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_notify(:channel, :id)"), {"channel": NOTIFY_CHANNEL, "id": approval_id})


def _nobody(_approval_id: str) -> None:
    pass


class ApprovalStore(DatabaseStore):
    """Approval requests in a SQL database (SQLite or PostgreSQL), shared by every gateway instance on it."""

    def __init__(self, url: str, *, on_change: Callable[[str], None] = _nobody) -> None:
        """``on_change(id)`` is told of every write this store commits, after the commit, from the writing thread
        (``ApprovalSignals.publish``)."""
        super().__init__(url)
        self._on_change = on_change

    @property
    def dialect(self) -> str:
        """The database's kind: ``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    # reading

    def _load(self, connection: Connection, rows: Sequence[Any]) -> builtins.list[ApprovalRequest]:
        if not rows:
            return []
        ids = [row.id for row in rows]
        steps = connection.execute(
            sa.select(approval_transitions)
            .where(approval_transitions.c.approval_id.in_(ids))
            .order_by(approval_transitions.c.approval_id, approval_transitions.c.seq)
        ).all()
        history: dict[str, list[Any]] = {approval_id: [] for approval_id in ids}
        for step in steps:
            history[step.approval_id].append(step)
        # The row and its transitions are read by two statements, which need not see one snapshot (SQLite's
        # driver reads outside a transaction; PostgreSQL reads committed): a write committed between them adds
        # transitions the row does not count yet. The row's version says how many belong to the row as read, so
        # the value is that of one moment, and ``apply``'s conditional write sees any change since.
        return [_approval(row, history[row.id][: row.version]) for row in rows]

    def _get(self, connection: Connection, approval_id: str) -> ApprovalRequest:
        row = connection.execute(sa.select(approval_requests).where(approval_requests.c.id == approval_id)).first()
        if row is None:
            # the id may be caller text (a URL path, a header): never repeated
            raise ApprovalNotFound("there is no approval with this id: check the id")
        return self._load(connection, [row])[0]

    def get(self, approval_id: str) -> ApprovalRequest:
        """The approval with this id, its whole history included; ``approval_not_found`` if there is none."""
        with self._engine.connect() as connection:
            return self._get(connection, approval_id)

    def list(
        self,
        *,
        state: ApprovalState | None = None,
        requester: str | None = None,
        approver_groups: Collection[str] | None = None,
        review: ReviewState | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        after: tuple[float, str] | None = None,
    ) -> builtins.list[ApprovalRequest]:
        """Approvals, newest first (then by id): in ``state``, asked by the subject ``requester``,
        (``approver_groups``) those that a member of any of these groups may decide, and (``review``) break-glass
        approvals whose review is so. Filters combine; none lists every approval. ``after`` (the ``created_at`` and
        ``id`` of the last approval of a page) starts the list right after that approval, for keyset pagination
        that holds while approvals are added."""
        columns = approval_requests.c
        query = sa.select(approval_requests).order_by(columns.created_at.desc(), columns.id)
        if after is not None:
            created_at, approval_id = after
            query = query.where(
                sa.or_(
                    columns.created_at < created_at, sa.and_(columns.created_at == created_at, columns.id > approval_id)
                )
            )
        if state is not None:
            query = query.where(approval_requests.c.state == state)
        if requester is not None:
            query = query.where(approval_requests.c.requester_subject == requester)
        if review is not None:
            query = query.where(approval_requests.c.review == review)
        if approver_groups is None:
            query = query.limit(limit)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
            if approver_groups is not None:
                # the approver groups are a JSON list: matched here, the same way on every backend
                wanted = set(approver_groups)
                rows = [row for row in rows if wanted & set(row.approvers)][:limit]
            return self._load(connection, rows)

    def find_pending(
        self,
        requester: str,
        body_sha256: str,
        rule: str,
        *,
        now: float,
        endpoint: str | None = None,
        policy_version: str | None = None,
    ) -> ApprovalRequest | None:
        """The requester's pending (and not lapsed) approval for this very body under this rule (and, when given,
        on this endpoint under this policy version), if any."""
        with self._engine.connect() as connection:
            return self._find_pending(connection, requester, body_sha256, rule, now, endpoint, policy_version)

    def _find_pending(
        self,
        connection: Connection,
        requester: str,
        body_sha256: str,
        rule: str,
        now: float,
        endpoint: str | None = None,
        policy_version: str | None = None,
    ) -> ApprovalRequest | None:
        conditions = [
            approval_requests.c.requester_subject == requester,
            approval_requests.c.body_sha256 == body_sha256,
            approval_requests.c.rule == rule,
            approval_requests.c.state == "pending",
            approval_requests.c.expires_at > now,
        ]
        if endpoint is not None:
            conditions.append(approval_requests.c.endpoint == endpoint)
        if policy_version is not None:
            conditions.append(approval_requests.c.policy_version == policy_version)
        row = connection.execute(
            sa.select(approval_requests).where(*conditions).order_by(approval_requests.c.created_at.desc()).limit(1)
        ).first()
        return None if row is None else self._load(connection, [row])[0]

    def count_pending(self, requester: str, *, now: float) -> int:
        """How many pending (and not lapsed) approvals the requester has."""
        with self._engine.connect() as connection:
            return self._count_pending(connection, requester, now)

    def count_all_pending(self, *, now: float) -> int:
        """How many pending (and not lapsed) approvals there are, from every requester (the metrics' gauge)."""
        with self._engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.count())
                .select_from(approval_requests)
                .where(approval_requests.c.state == "pending", approval_requests.c.expires_at > now)
            ).scalar_one()

    @staticmethod
    def _count_pending(connection: Connection, requester: str, now: float) -> int:
        return connection.execute(
            sa.select(sa.func.count())
            .select_from(approval_requests)
            .where(
                approval_requests.c.requester_subject == requester,
                approval_requests.c.state == "pending",
                approval_requests.c.expires_at > now,
            )
        ).scalar_one()

    # writing

    def create(self, approval: ApprovalRequest, *, now: float, max_pending: int = DEFAULT_MAX_PENDING) -> Created:
        """Store a new pending approval, unless the requester has an identical one pending (the same body, endpoint,
        rule and policy version: everything its grant is bound to, ``lifecycle.use``): then that one is reused, so
        approvers see one request however often it is sent; one that differs in any of them could never be spent
        on this request. ``too_many_pending``
        when the requester already has ``max_pending`` pending. The look-up and the insert hold a lock on the
        requester (``_lock_requester``), so identical requests arriving at once, on any instance, make one
        approval, and a burst cannot slip past the limit."""
        if approval.state != "pending" or len(approval.history) != 1:
            raise ValueError("only a new pending approval (lifecycle.new_approval) is created")
        subject = approval.requester.subject
        with self._engine.begin() as connection:
            _lock_requester(connection, subject)
            existing = self._find_pending(
                connection,
                subject,
                approval.body_sha256,
                approval.rule,
                now,
                endpoint=approval.endpoint,
                policy_version=approval.policy_version,
            )
            if existing is not None:
                return Created(existing, reused=True)
            if self._count_pending(connection, subject, now) >= max_pending:
                raise TooManyPending(
                    f"you have {max_pending} approval requests pending already: wait for a decision, or cancel one",
                    details={"max_pending": max_pending},
                )
            connection.execute(approval_requests.insert().values(**_row(approval)))
            connection.execute(approval_transitions.insert(), _transition_rows(approval, 0))
            _notify(connection, approval.id)
        self._on_change(approval.id)
        return Created(approval, reused=False)

    def record_break_glass(self, approval: ApprovalRequest) -> ApprovalRequest:
        """Store a new break-glass approval (``lifecycle.break_glass``: approved by its requester at once). It is
        never pending, so it neither reuses a pending approval nor counts against the requester's pending limit."""
        if not approval.break_glass or approval.state != "approved" or len(approval.history) != 2:
            raise ValueError("only a new break-glass approval (lifecycle.break_glass) is recorded so")
        with self._engine.begin() as connection:
            connection.execute(approval_requests.insert().values(**_row(approval)))
            connection.execute(approval_transitions.insert(), _transition_rows(approval, 0))
            _notify(connection, approval.id)
        self._on_change(approval.id)  # nobody waits on it, but auditors' and approvers' event streams show it
        return approval

    def apply(self, approval_id: str, change: Callable[[ApprovalRequest], ApprovalRequest]) -> ApprovalRequest:
        """Apply a lifecycle function (``lambda a: lifecycle.approve(a, who, why, now=now)``) to the stored
        approval and store the result atomically; the function's error, if it refuses, propagates and nothing is
        written. Under concurrent writes the function runs again on the newer value until one write holds."""
        for _ in range(MAX_ATTEMPTS):
            try:
                return self._apply_once(approval_id, change)
            except _LostRace:
                continue
        raise ApprovalStateError(f"approval {approval_id} is changing too often to act on it now: try again")

    def _apply_once(self, approval_id: str, change: Callable[[ApprovalRequest], ApprovalRequest]) -> ApprovalRequest:
        with self._engine.begin() as connection:
            current = self._get(connection, approval_id)
            changed = change(current)
            seen = len(current.history)
            if changed.id != current.id or changed.history[:seen] != current.history:
                raise ValueError("a change must keep the approval's id and extend its history")
            if len(changed.history) == seen:
                return current
            row = _row(changed)
            del row["id"]
            written = connection.execute(
                approval_requests.update()
                .where(approval_requests.c.id == approval_id, approval_requests.c.version == seen)
                .values(**row)
            )
            if written.rowcount != 1:
                raise _LostRace
            connection.execute(approval_transitions.insert(), _transition_rows(changed, seen))
            _notify(connection, approval_id)
        self._on_change(approval_id)
        return changed

    def expire_due(self, *, now: float) -> builtins.list[ApprovalRequest]:
        """Record the expiry of every pending request and grant whose time is over; returns those it expired."""
        with self._engine.connect() as connection:
            ids = (
                connection.execute(
                    sa.select(approval_requests.c.id).where(
                        approval_requests.c.state.in_(("pending", "approved")),
                        approval_requests.c.expires_at <= now,
                    )
                )
                .scalars()
                .all()
            )
        expired: builtins.list[ApprovalRequest] = []
        for approval_id in ids:
            try:
                expired.append(self.apply(approval_id, lambda approval: expire(approval, now=now)))
            except ClearanceError:
                continue  # decided, used or expired by someone else meanwhile
        return expired

    def escalate_due(self, *, now: float) -> builtins.list[ApprovalRequest]:
        """Record the escalation of every pending request undecided at its ``escalate_at``; returns those it
        escalated. Each is escalated once whichever instances sweep: ``apply``'s conditional write lets one of
        them record it, and ``lifecycle.escalate`` refuses it to the others (``escalation_not_due``)."""
        columns = approval_requests.c
        with self._engine.connect() as connection:
            ids = (
                connection.execute(
                    sa.select(columns.id).where(
                        columns.state == "pending",
                        columns.escalated_at.is_(None),
                        columns.escalate_at <= now,
                        columns.expires_at > now,
                    )
                )
                .scalars()
                .all()
            )
        escalated: builtins.list[ApprovalRequest] = []
        for approval_id in ids:
            try:
                escalated.append(self.apply(approval_id, lambda approval: escalate(approval, now=now)))
            except ClearanceError:
                continue  # decided, escalated or expired by someone else meanwhile
        return escalated
