"""Per-request cost of authentication: a JWT from the real test provider (cached key) and an API key (SQLite).

Run: .venv/bin/python -m bench.auth_latency [N]   (N requests each, default 2000; loopback only, bounded)
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from clearance.auth import ApiKeysConfig, AuthConfig, IssuerConfig
from clearance.auth.authenticator import Authenticator
from clearance.auth.keys import ApiKeyStore
from tests.oidc.harness import API, OidcProvider, ensure_node_modules, rsa_jwk

DEADLINE_S = 60.0


async def measure(auth: Authenticator, header: str, n: int) -> list[float]:
    samples: list[float] = []
    stop = time.monotonic() + DEADLINE_S
    for _ in range(n):
        t0 = time.perf_counter()
        await auth.authenticate(header, "127.0.0.1")
        samples.append((time.perf_counter() - t0) * 1e6)
        if time.monotonic() > stop:
            break
    return samples


def report(name: str, samples: list[float]) -> None:
    q = statistics.quantiles(samples, n=100)
    print(f"{name}: n={len(samples)} p50={q[49]:.0f} us p99={q[98]:.0f} us mean={statistics.fmean(samples):.0f} us")


async def main(n: int) -> None:
    ensure_node_modules()
    with tempfile.TemporaryDirectory() as tmp:
        idp = OidcProvider(Path(tmp), keys=[rsa_jwk("rsa-1")])
        idp.start()
        try:
            store = ApiKeyStore(f"sqlite:///{tmp}/keys.db")
            config = AuthConfig(
                issuers=(IssuerConfig(issuer=idp.issuer, audience=API),), api_keys=ApiKeysConfig(enabled=True)
            )
            auth = Authenticator(config, key_store=store)
            await auth.start()
            _, raw = store.create(owner="bench", expires_at=None)
            token = await idp.client_credentials("svc")
            report("jwt (RS256, cached key)", await measure(auth, f"Bearer {token}", n))
            report("api key (sqlite)", await measure(auth, f"Bearer {raw}", n))
            await auth.close()
        finally:
            idp.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000))
