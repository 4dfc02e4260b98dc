"""Which limits apply to one identity asking for one model, and the Redis keys that count them.

Precedence (docs/limits.md):

1. The identity's own limits (every model together). For each of requests per minute, tokens per minute and
   concurrent streams: the policy's clearances that select the caller (``Policy.limits_for``: one naming the caller
   by user or service account before those that select them by group, the most generous among equals), else the
   gateway file's ``limits.defaults``.
2. The model's limits for each identity (``limits.models[<model>]``), counted on their own and checked besides 1.

A request passes only when every limit that applies has room.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from clearance.limits.config import LimitsConfig, RateSpec
from clearance.models import Identity

Scope = Literal["identity", "model"]
LimitName = Literal["requests_per_minute", "tokens_per_minute", "concurrent_streams"]
FIELDS: tuple[LimitName, ...] = ("requests_per_minute", "tokens_per_minute", "concurrent_streams")


@dataclass(frozen=True, slots=True)
class Quota:
    """The limits of one scope for one identity: its counters live under ``key`` (plus a suffix per limit)."""

    scope: Scope
    key: str
    spec: RateSpec
    model: str | None = None
    """The model, for a model's limits."""

    def describe(self) -> str:
        """Where the limit applies, for a caller's message: never anything the caller sent."""
        return "for this caller" if self.model is None else f"for this caller on model {self.model!r}"


def identity_tag(identity: Identity) -> str:
    """The identity as its keys name it: a hash, so that no e-mail or subject is written in Redis. An API key is
    counted on its own (its key id); another caller by issuer and subject."""
    who = f"key\0{identity.key_id}" if identity.key_id is not None else f"{identity.issuer}\0{identity.subject}"
    return hashlib.sha256(f"{identity.kind}\0{who}".encode()).hexdigest()[:32]


def merged(policy: RateSpec | None, defaults: RateSpec) -> RateSpec:
    """The identity's own limits: the policy's where it sets them, the gateway file's defaults for the rest."""
    if policy is None:
        return defaults
    return RateSpec.model_validate(
        {
            name: getattr(policy, name) if getattr(policy, name) is not None else getattr(defaults, name)
            for name in FIELDS
        }
    )


def quotas_for(config: LimitsConfig, policy: RateSpec | None, identity: Identity, model: str) -> tuple[Quota, ...]:
    """Every scope with a limit for ``identity`` on ``model`` (empty: the request is not counted at all). The keys
    of one identity share a Redis Cluster hash tag, so one script may touch them all."""
    base = f"{config.key_prefix}{{{identity_tag(identity)}}}"
    found: list[Quota] = []
    own = merged(policy, config.defaults)
    if not own.empty:
        found.append(Quota("identity", f"{base}:all", own))
    per_model = config.models.get(model)
    if per_model is not None and not per_model.empty:
        digest = hashlib.sha256(model.encode()).hexdigest()[:16]
        found.append(Quota("model", f"{base}:model:{digest}", per_model, model))
    return tuple(found)
