"""API keys through the authenticator: the lifecycle (create, use, expire, revoke) and throttled last-used."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clearance.auth import ApiKeysConfig, AuthConfig, build_authenticator
from clearance.auth import errors as codes
from clearance.auth.authenticator import Authenticator
from clearance.auth.keys import ApiKeyStore
from clearance.exceptions import AuthenticationError, ServiceUnavailable
from tests.auth.conftest import FakeClock, bearer


class CountingStore(ApiKeyStore):
    """The real store, counting the batches of last-used writes."""

    touches = 0

    def touch(self, last_used: dict[str, float]) -> None:
        self.touches += 1
        super().touch(last_used)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1_800_000_000)


@pytest.fixture
async def keyed(tmp_path: Path, clock: FakeClock) -> AsyncIterator[tuple[Authenticator, CountingStore]]:
    store = CountingStore(f"sqlite:///{tmp_path / 'gateway.db'}")
    config = AuthConfig(api_keys=ApiKeysConfig(enabled=True, last_used_resolution=60))
    auth = Authenticator(config, key_store=store, clock=clock)
    await auth.start()
    yield auth, store
    await auth.close()


async def test_when_a_key_goes_through_its_life_then_it_works_until_it_expires_or_is_revoked(
    keyed: tuple[Authenticator, CountingStore], clock: FakeClock
) -> None:
    auth, store = keyed
    record, raw = store.create(owner="ci-bot", groups=["ci"], expires_at=clock() + 3600, label="nightly", now=clock())

    identity = await auth.authenticate(bearer(raw), "203.0.113.9")
    assert (identity.subject, identity.kind, identity.groups) == ("ci-bot", "service", ("ci",))
    assert record.key_id in (identity.name or "")
    assert (identity.key_id, identity.auth_method) == (record.key_id, "api_key")  # recorded with each exchange

    clock.advance(3600)
    with pytest.raises(AuthenticationError) as expired:
        await auth.authenticate(bearer(raw), None)
    assert expired.value.code == codes.API_KEY_EXPIRED

    second, raw2 = store.create(owner="ci-bot", expires_at=None, now=clock())
    assert (await auth.authenticate(bearer(raw2), None)).subject == "ci-bot"
    store.revoke(second.key_id)  # e.g. `clearance keys revoke` from another process
    with pytest.raises(AuthenticationError) as revoked:
        await auth.authenticate(bearer(raw2), None)
    assert revoked.value.code == codes.API_KEY_REVOKED
    assert raw2 not in revoked.value.message


async def test_when_an_unknown_clr_key_is_sent_then_it_is_refused_without_echo(
    keyed: tuple[Authenticator, CountingStore],
) -> None:
    auth, _ = keyed
    fake = "clr_0123456789ab_" + "A" * 43

    with pytest.raises(AuthenticationError) as info:
        await auth.authenticate(bearer(fake), None)

    assert info.value.code == codes.UNKNOWN_API_KEY
    assert "AAAAAAAA" not in info.value.message + str(info.value.headers)


async def test_when_a_key_is_used_many_times_then_last_used_is_written_once_per_resolution(
    keyed: tuple[Authenticator, CountingStore], clock: FakeClock
) -> None:
    auth, store = keyed
    _, raw = store.create(owner="agent", expires_at=None, now=clock())

    for _ in range(100):
        await auth.authenticate(bearer(raw), None)
        clock.advance(0.1)  # 100 requests over 10 s
    assert store.touches == 0
    clock.advance(60)
    await auth.authenticate(bearer(raw), None)
    assert store.touches == 1
    assert store.list()[0].last_used_at == clock()

    clock.advance(1)
    await auth.authenticate(bearer(raw), None)
    assert store.touches == 1
    keys = auth.api_keys
    assert keys is not None
    await keys.flush()  # as at shutdown
    assert store.list()[0].last_used_at == clock()


async def test_when_the_key_database_is_unreachable_then_it_is_503(tmp_path: Path) -> None:
    store = ApiKeyStore(f"sqlite:///{tmp_path / 'gateway.db'}")
    auth = Authenticator(AuthConfig(api_keys=ApiKeysConfig(enabled=True)), key_store=store)
    await auth.start()
    _, raw = store.create(owner="agent", expires_at=None)
    (tmp_path / "gateway.db").unlink()
    (tmp_path / "gateway.db").mkdir()  # the path is now a folder: SQLite cannot open it
    store.close()

    with pytest.raises(ServiceUnavailable) as info:
        await auth.authenticate(bearer(raw), None)

    assert info.value.code == codes.KEY_STORE_UNAVAILABLE
    await auth.close()


def test_when_keys_are_enabled_then_the_default_database_is_the_one_given(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"

    auth = build_authenticator(AuthConfig(api_keys=ApiKeysConfig(enabled=True)), default_keys_url=url)

    assert auth.api_keys is not None
    assert auth.api_keys.store.url == url


@pytest.mark.postgres
async def test_when_one_instance_revokes_a_key_then_another_refuses_it_at_its_next_request(
    postgres_url: str, clock: FakeClock
) -> None:
    """Two gateway instances on one PostgreSQL: no cache in between, so no window in which a revoked key works."""
    config = AuthConfig(api_keys=ApiKeysConfig(enabled=True))
    here, there = (build_authenticator(config, default_keys_url=postgres_url, clock=clock) for _ in range(2))
    await here.start()
    await there.start()
    try:
        assert here.api_keys is not None and there.api_keys is not None
        record, raw = there.api_keys.store.create(owner="ci-bot", expires_at=None, now=clock())
        assert (await here.authenticate(bearer(raw), None)).subject == "ci-bot"  # in use on this instance
        assert there.api_keys.store.revoke(record.key_id, now=clock())  # revoked through the other
        with pytest.raises(AuthenticationError) as revoked:
            await here.authenticate(bearer(raw), None)  # at once: the clock did not move
        assert revoked.value.code == codes.API_KEY_REVOKED
    finally:
        await there.close()
        await here.close()
