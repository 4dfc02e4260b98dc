"""Drives the real OpenID provider (``provider.mjs``) for the identity tests.

``OidcProvider`` writes the provider's configuration (keys generated here, so that rotating a key is restarting
with another one), starts Node on a free loopback port and waits for the discovery document. ``Browser`` plays
the user over HTTP: it enters a device flow's user code, signs in and consents through oidc-provider's
development interactions, or follows an authorization-code redirect to the CLI's loopback listener.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

OIDC_DIR = Path(__file__).resolve().parent
NODE = shutil.which("node") or "/usr/bin/node"
NPM = shutil.which("npm") or "/usr/bin/npm"
API = "https://api.clearance.test"
SVC_SECRET = "svc-secret-0123456789abcdef0123456789"  # a test client's secret, loopback provider only


def ensure_node_modules() -> None:
    """Install the provider from the lock file if this checkout has not yet (a fresh machine)."""
    if (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    subprocess.run(
        [NPM, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=OIDC_DIR,
        check=True,
        timeout=300,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rsa_jwk(kid: str, *, alg: str | None = None) -> dict[str, Any]:
    """A private RSA signing key as a JWK (with ``alg`` only when given)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key))
    jwk.update(kid=kid, use="sig")
    if alg is not None:
        jwk["alg"] = alg
    return jwk


def ec_jwk(kid: str) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(key))
    jwk.update(kid=kid, use="sig", alg="ES256")
    return jwk


def public_pem(jwk: dict[str, Any]) -> bytes:
    key = RSAAlgorithm.from_jwk(json.dumps(jwk))
    public = key if isinstance(key, rsa.RSAPublicKey) else key.public_key()
    return public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def private_key(jwk: dict[str, Any]) -> Any:
    return RSAAlgorithm.from_jwk(json.dumps(jwk))


def default_clients() -> list[dict[str, Any]]:
    return [
        {
            "client_id": "svc",
            "client_secret": SVC_SECRET,
            "grant_types": ["client_credentials"],
            "response_types": [],
            "redirect_uris": [],
        },
        {
            "client_id": "cli",
            "token_endpoint_auth_method": "none",
            "application_type": "native",
            "grant_types": [
                "urn:ietf:params:oauth:grant-type:device_code",
                "authorization_code",
                "refresh_token",
            ],
            "response_types": ["code"],
            "redirect_uris": ["http://127.0.0.1/callback"],
        },
    ]


class OidcProvider:
    """One oidc-provider process on 127.0.0.1. ``restart(keys=...)`` rotates its signing keys."""

    def __init__(
        self,
        workdir: Path,
        *,
        keys: list[dict[str, Any]],
        accounts: dict[str, Any] | None = None,
        client_claims: dict[str, Any] | None = None,
        resources: dict[str, Any] | None = None,
        clients: list[dict[str, Any]] | None = None,
    ) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.keys = keys
        self.accounts = accounts or {}
        self.client_claims = client_claims or {}
        self.resources = resources or {API: {"scope": "api"}}
        self.clients = clients or default_clients()
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = workdir / f"provider-{self.port}.log"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    def _write_config(self) -> Path:
        path = self.workdir / f"provider-{self.port}.json"
        path.write_text(
            json.dumps(
                {
                    "issuer": self.issuer,
                    "port": self.port,
                    "jwks": {"keys": self.keys},
                    "clients": self.clients,
                    "accounts": self.accounts,
                    "client_claims": self.client_claims,
                    "resources": self.resources,
                    "default_resource": API,
                }
            )
        )
        return path

    def start(self, timeout: float = 20.0) -> None:
        config = self._write_config()
        with self._log.open("ab") as log:
            self._proc = subprocess.Popen(
                [NODE, str(OIDC_DIR / "provider.mjs"), str(config)],
                cwd=OIDC_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        url = f"{self.issuer}/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"oidc-provider exited: {self._log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:  # loopback only
                    if json.load(resp).get("issuer") == self.issuer:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"oidc-provider did not start in {timeout} s: {self._log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._proc = None

    def restart(self, *, keys: list[dict[str, Any]] | None = None) -> None:
        self.stop()
        if keys is not None:
            self.keys = keys
        self.start()

    async def client_credentials(
        self,
        client_id: str = "svc",
        secret: str = SVC_SECRET,
        *,
        resource: str | None = None,
        scope: str = "api",
    ) -> str:
        form = {"grant_type": "client_credentials", "scope": scope}
        if resource is not None:
            form["resource"] = resource
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                self.token_endpoint,
                data=form,
                headers={"Authorization": aiohttp.encode_basic_auth(client_id, secret)},
            ) as resp,
        ):
            body = await resp.json()
            assert resp.status == 200, body
            return str(body["access_token"])


_FORM = re.compile(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S)
_INPUT = re.compile(r"<input[^>]*>", re.S)
_ATTR = re.compile(r"(\w+)=\"([^\"]*)\"")


def _forms(page: str) -> list[tuple[str, dict[str, str]]]:
    forms = []
    for action, body in _FORM.findall(page):
        fields = {}
        for tag in _INPUT.findall(body):
            attrs = dict(_ATTR.findall(tag))
            if "name" in attrs:
                fields[attrs["name"]] = html.unescape(attrs.get("value", ""))
        forms.append((html.unescape(action), fields))
    return forms


class Browser:
    """The user, over HTTP: a cookie jar and oidc-provider's development login and consent pages."""

    def __init__(self, issuer: str, login: str) -> None:
        self.issuer = issuer
        self.login = login
        self.session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def close(self) -> None:
        await self.session.close()

    async def _post(self, action: str, fields: dict[str, str]) -> tuple[str, str]:
        url = action if action.startswith("http") else self.issuer + action
        async with self.session.post(url, data=fields) as resp:
            return str(resp.url), await resp.text()

    async def _interact(self, url: str, page: str) -> tuple[str, str]:
        """Sign in and consent until the provider is done with us."""
        for _ in range(6):
            forms = _forms(page)
            prompt = next((f for f in forms if f[1].get("prompt") in ("login", "consent")), None)
            if prompt is None:
                return url, page
            action, fields = prompt
            if fields["prompt"] == "login":
                fields.update(login=self.login, password="any")
            url, page = await self._post(action, fields)
        raise AssertionError("the provider kept asking")

    async def approve_device(self, verification_uri: str, user_code: str) -> str:
        """Enter the user code, confirm, sign in and consent. Returns the final page."""
        async with self.session.get(verification_uri) as resp:
            page = await resp.text()
        action, fields = _forms(page)[0]
        fields["user_code"] = user_code
        _, page = await self._post(action, fields)  # the confirmation page
        action, fields = next(f for f in _forms(page) if "confirm" in f[1])
        url, page = await self._post(action, fields)
        _, page = await self._interact(url, page)
        return page

    async def authorize(self, authorization_url: str) -> str:
        """Open the authorization URL, sign in, consent; returns the page the redirect lands on."""
        async with self.session.get(authorization_url) as resp:
            url, page = str(resp.url), await resp.text()
        _, page = await self._interact(url, page)
        return page
