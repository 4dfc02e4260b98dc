"""Claims to identity: groups claim shapes, Entra roles and overage, Google hd, azp, subject kinds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from clearance.auth import IssuerConfig
from clearance.auth import errors as codes
from clearance.auth.claims import identity_from_claims
from clearance.auth.group_source import GroupSourceFile
from clearance.exceptions import AuthenticationError
from tests.auth.conftest import AuthFactory, bearer
from tests.oidc.harness import API, OidcProvider

ISS = "https://idp.example.com"


def issuer(**overrides: Any) -> IssuerConfig:
    return IssuerConfig(**({"issuer": ISS, "audience": API} | overrides))


def source_file(tmp_path: Path, text: str) -> GroupSourceFile:
    path = tmp_path / "groups.yaml"
    path.write_text(text)
    source = GroupSourceFile(path)
    source.load()
    return source


@pytest.mark.parametrize(
    ("claims", "settings", "groups"),
    [
        ({"groups": ["a", "b"]}, {}, ("a", "b")),
        ({"groups": "a, b,,c "}, {}, ("a", "b", "c")),
        ({"groups": "solo"}, {}, ("solo",)),
        ({"groups": []}, {}, ()),
        ({}, {}, ()),
        ({"groups": ["a", "a", "b"]}, {}, ("a", "b")),
        ({"https://example.com/groups": ["x"]}, {"groups_claim": "https://example.com/groups"}, ("x",)),
        ({"realm_access": {"roles": ["r1"]}}, {"groups_claim": ["realm_access", "roles"]}, ("r1",)),
        ({"realm_access": {}}, {"groups_claim": ["realm_access", "roles"]}, ()),
        ({"groups": ["a"]}, {"groups_claim": None}, ()),
        ({"groups": ["g-1"], "roles": ["Reader"]}, {"roles_claim": "roles"}, ("g-1", "Reader")),
        ({"groups": ["g-1", "g-2"]}, {"group_names": {"g-1": "Finance"}}, ("Finance", "g-2")),
    ],
)
def test_when_groups_come_in_this_shape_then_the_identity_has_these_names(
    claims: dict[str, Any], settings: dict[str, Any], groups: tuple[str, ...]
) -> None:
    identity = identity_from_claims({"sub": "u1"} | claims, issuer(**settings))

    assert identity.groups == groups


@pytest.mark.parametrize(
    ("claims", "settings", "code"),
    [
        ({"groups": {"a": 1}}, {}, codes.INVALID_GROUPS_CLAIM),
        ({"groups": ["a", 3]}, {}, codes.INVALID_GROUPS_CLAIM),
        ({"groups": 7}, {}, codes.INVALID_GROUPS_CLAIM),
        ({}, {"require_groups": True}, codes.MISSING_GROUPS_CLAIM),
        ({"_claim_names": {"groups": "src1"}}, {}, codes.GROUP_OVERAGE),
        ({"hasgroups": True}, {}, codes.GROUP_OVERAGE),
        ({"sub": None}, {}, codes.MISSING_CLAIM),
        ({"sub": ""}, {}, codes.MISSING_CLAIM),
        ({"azp": "rogue-app"}, {"allowed_clients": ("good-app",)}, codes.CLIENT_NOT_ALLOWED),
        ({}, {"allowed_clients": ("good-app",)}, codes.CLIENT_NOT_ALLOWED),
        ({"hd": "evil.com"}, {"hosted_domains": ("example.com",)}, codes.DOMAIN_NOT_ALLOWED),
        ({"email": "a@example.com"}, {"hosted_domains": ("example.com",)}, codes.DOMAIN_NOT_ALLOWED),
    ],
)
def test_when_claims_fail_a_check_then_the_code_says_which(
    claims: dict[str, Any], settings: dict[str, Any], code: str
) -> None:
    with pytest.raises(AuthenticationError) as info:
        identity_from_claims({k: v for k, v in ({"sub": "u1"} | claims).items() if v is not None}, issuer(**settings))

    assert info.value.code == code
    assert 'error="invalid_token"' in info.value.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("claims", "settings"),
    [
        ({"azp": "good-app"}, {"allowed_clients": ("good-app",)}),
        ({"appid": "good-app"}, {"allowed_clients": ("good-app",)}),  # Entra v1 tokens
        ({"hd": "Example.com"}, {"hosted_domains": ("example.com",)}),
    ],
)
def test_when_claims_pass_the_checks_then_the_identity_is_returned(
    claims: dict[str, Any], settings: dict[str, Any]
) -> None:
    assert identity_from_claims({"sub": "u1"} | claims, issuer(**settings)).subject == "u1"


@pytest.mark.parametrize(
    ("claims", "kind"),
    [
        ({"sub": "svc", "client_id": "svc"}, "service"),
        ({"sub": "0f1e", "azp": "0f1e"}, "service"),
        ({"sub": "u1", "idtyp": "app"}, "service"),
        ({"sub": "u1", "azp": "cli"}, "user"),
        ({"sub": "u1"}, "user"),
    ],
)
def test_when_the_subject_is_the_client_then_the_identity_is_a_service(claims: dict[str, Any], kind: str) -> None:
    assert identity_from_claims(claims, issuer()).kind == kind


def test_when_mapping_claims_then_subject_email_and_name_come_from_the_configured_claims() -> None:
    claims = {"sub": "s", "oid": "object-id", "preferred_username": "a@example.com", "name": "A"}

    identity = identity_from_claims(claims, issuer(subject_claim="oid", email_claim="preferred_username"))

    assert (identity.subject, identity.email, identity.name, identity.issuer) == (
        "object-id",
        "a@example.com",
        "A",
        ISS,
    )


def test_when_overage_resolves_through_the_group_source_then_the_files_groups_are_used(tmp_path: Path) -> None:
    source = source_file(tmp_path, "big@example.com: [finance, eng]\n")
    settings = issuer(overage="group_source", group_source=source.path)
    claims = {"sub": "u1", "email": "Big@Example.com", "_claim_names": {"groups": "src1"}}

    assert identity_from_claims(claims, settings, source).groups == ("finance", "eng")


def test_when_overage_resolves_but_the_user_is_not_listed_then_it_is_refused_not_groupless(tmp_path: Path) -> None:
    source = source_file(tmp_path, "someone@example.com: [finance]\n")
    settings = issuer(overage="group_source", group_source=source.path)

    with pytest.raises(AuthenticationError) as info:
        identity_from_claims({"sub": "u1", "hasgroups": True}, settings, source)

    assert info.value.code == codes.GROUP_OVERAGE


def test_when_a_group_source_is_set_then_its_groups_add_to_the_tokens(tmp_path: Path) -> None:
    source = source_file(tmp_path, "u1: [from-file]\n")

    identity = identity_from_claims({"sub": "u1", "groups": ["from-token"]}, issuer(), source)

    assert identity.groups == ("from-token", "from-file")


GOOGLE_FILE = "gina@example.com: [workspace-eng]\n"


@pytest.mark.parametrize(
    ("client", "settings", "expected"),
    [
        ("svc-csv", {}, ("alpha", "beta", "gamma")),
        ("svc-ns", {"groups_claim": "https://example.com/groups"}, ("ns-a", "ns-b")),
        ("svc-nested", {"groups_claim": ["realm_access", "roles"]}, ("nested-a",)),
        ("svc-roles", {"roles_claim": "roles", "group_names": {"g-0001": "Finance"}}, ("Finance", "Reader", "Writer")),
        ("svc-bad", {}, codes.INVALID_GROUPS_CLAIM),
        ("svc-none", {"require_groups": True}, codes.MISSING_GROUPS_CLAIM),
        ("svc-none", {}, ()),
        ("svc-overage", {}, codes.GROUP_OVERAGE),
        ("svc-google", {"hosted_domains": ("example.com",), "group_source": "FILE"}, ("workspace-eng",)),
        ("svc-otherdomain", {"hosted_domains": ("example.com",)}, codes.DOMAIN_NOT_ALLOWED),
        ("svc-azp", {"allowed_clients": ("trusted-app",)}, ()),
        ("svc", {"allowed_clients": ("trusted-app",)}, codes.CLIENT_NOT_ALLOWED),
    ],
)
async def test_when_the_real_provider_sends_this_claim_shape_then_the_identity_follows_the_mapping(
    provider: OidcProvider,
    make_authenticator: AuthFactory,
    tmp_path: Path,
    client: str,
    settings: dict[str, Any],
    expected: tuple[str, ...] | str,
) -> None:
    if settings.get("group_source") == "FILE":
        (tmp_path / "groups.yaml").write_text(GOOGLE_FILE)
        settings = settings | {"group_source": tmp_path / "groups.yaml"}
    auth = await make_authenticator(IssuerConfig(issuer=provider.issuer, audience=API, **settings))
    token = await provider.client_credentials(client)

    if isinstance(expected, tuple):
        assert (await auth.authenticate(bearer(token), None)).groups == expected
    else:
        with pytest.raises(AuthenticationError) as info:
            await auth.authenticate(bearer(token), None)
        assert info.value.code == expected


async def test_when_entra_overage_is_resolved_by_file_then_the_real_token_gets_the_files_groups(
    provider: OidcProvider, make_authenticator: AuthFactory, tmp_path: Path
) -> None:
    path = tmp_path / "groups.yaml"
    path.write_text("overage@example.com: [g-big-1, g-big-2]\n")
    auth = await make_authenticator(
        IssuerConfig(issuer=provider.issuer, audience=API, overage="group_source", group_source=path)
    )

    identity = await auth.authenticate(bearer(await provider.client_credentials("svc-overage")), None)

    assert identity.groups == ("g-big-1", "g-big-2")
