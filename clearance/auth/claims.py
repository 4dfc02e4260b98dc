"""Verified claims to an ``Identity``, by the issuer's mapping (``identity_from_claims``). Pure, no
I/O but the group source's reload check.

Groups come from the configured claim (a list, a comma-separated string, a namespaced claim or a
nested path), plus Entra app ``roles``, mapped from ids to names, plus the group source's.
Entra's group overage is never silently read as "no groups": it is refused, or resolved through
the group source, as configured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clearance.auth import errors
from clearance.auth.config import IssuerConfig
from clearance.auth.group_source import GroupSourceFile
from clearance.models import Identity, IdentityKind

_MISSING = object()


def _lookup(claims: Mapping[str, Any], path: str | tuple[str, ...]) -> Any:
    if isinstance(path, str):
        return claims.get(path, _MISSING)
    node: Any = claims
    for name in path:
        if not isinstance(node, Mapping) or name not in node:
            return _MISSING
        node = node[name]
    return node


def _claim_label(path: str | tuple[str, ...]) -> str:
    return path if isinstance(path, str) else ".".join(path)


def _as_names(value: Any, label: str) -> list[str]:
    """A list of strings, or one comma-separated string, as a list of names."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v for v in value if v]
    raise errors.invalid_token(
        errors.INVALID_GROUPS_CLAIM,
        f"the token's '{label}' claim is neither a list of names nor a comma-separated string: "
        "check auth.issuers[].groups_claim",
    )


def _has_overage(claims: Mapping[str, Any], path: str | tuple[str, ...]) -> bool:
    names = claims.get("_claim_names")
    target = path if isinstance(path, str) else path[-1]
    if isinstance(names, Mapping) and (target in names or "groups" in names):
        return True
    return claims.get("hasgroups") is True


def _client_of(claims: Mapping[str, Any]) -> str | None:
    for name in ("azp", "appid", "client_id"):
        value = claims.get(name)
        if isinstance(value, str):
            return value
    return None


def _str_claim(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def _kind(claims: Mapping[str, Any], subject: str) -> IdentityKind:
    # Client-credentials tokens: Entra marks them idtyp=app; others have the client as their
    # subject.
    if claims.get("idtyp") == "app" or subject == _client_of(claims):
        return "service"
    return "user"


def _groups(
    claims: Mapping[str, Any],
    issuer: IssuerConfig,
    source: GroupSourceFile | None,
    subject: str,
    email: str | None,
) -> tuple[str, ...]:
    found: list[str] = []
    source_used = False
    path = issuer.groups_claim
    if path is not None:
        raw = _lookup(claims, path)
        if raw is _MISSING and _has_overage(claims, path):
            if issuer.overage == "deny" or source is None:
                raise errors.invalid_token(
                    errors.GROUP_OVERAGE,
                    "the user is in too many groups for the token to list them "
                    "(Entra group overage): "
                    "assign app roles and set roles_claim, or set overage: group_source",
                )
            listed = source.groups_for(email=email, subject=subject)
            if listed is None:
                raise errors.invalid_token(
                    errors.GROUP_OVERAGE,
                    f"the token has no groups (Entra group overage) and the group source "
                    f"{source.path.name} does not list this user: add the user to it",
                )
            found.extend(listed)
            source_used = True
        elif raw is _MISSING:
            if issuer.require_groups:
                raise errors.invalid_token(
                    errors.MISSING_GROUPS_CLAIM,
                    f"the token has no '{_claim_label(path)}' claim and {issuer.issuer} "
                    "requires one: "
                    "configure the provider to send groups in tokens for this application",
                )
        else:
            found.extend(_as_names(raw, _claim_label(path)))
    if issuer.roles_claim is not None:
        roles = claims.get(issuer.roles_claim, _MISSING)
        if roles is not _MISSING:
            found.extend(_as_names(roles, issuer.roles_claim))
    if source is not None and not source_used:
        found.extend(source.groups_for(email=email, subject=subject) or ())
    mapped = (issuer.group_names.get(g, g) for g in found)
    return tuple(dict.fromkeys(mapped))


def identity_from_claims(
    claims: Mapping[str, Any], issuer: IssuerConfig, source: GroupSourceFile | None = None
) -> Identity:
    """The identity these (verified) claims describe, or ``AuthenticationError`` saying which check
    failed."""
    subject = _str_claim(claims, issuer.subject_claim)
    if subject is None:
        raise errors.invalid_token(
            errors.MISSING_CLAIM,
            f"the token has no '{issuer.subject_claim}' claim to identify its subject (auth.issuers[].subject_claim)",
        )
    if issuer.allowed_clients is not None and _client_of(claims) not in issuer.allowed_clients:
        raise errors.invalid_token(
            errors.CLIENT_NOT_ALLOWED,
            "the token was issued to an application this gateway does not accept (auth.issuers[].allowed_clients)",
        )
    if issuer.hosted_domains is not None:
        hd = claims.get("hd")
        allowed = {d.lower() for d in issuer.hosted_domains}
        if not isinstance(hd, str) or hd.lower() not in allowed:
            raise errors.invalid_token(
                errors.DOMAIN_NOT_ALLOWED,
                f"the account is not in an allowed Google Workspace domain "
                f"({', '.join(issuer.hosted_domains)}): sign in with your organisation's account",
            )
    email = _str_claim(claims, issuer.email_claim)
    return Identity(
        subject=subject,
        kind=_kind(claims, subject),
        issuer=issuer.issuer,
        email=email,
        name=_str_claim(claims, issuer.name_claim),
        groups=_groups(claims, issuer, source, subject, email),
    )
