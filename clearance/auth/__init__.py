"""Identity: OIDC bearer tokens from trusted issuers, gateway-issued API keys, and the loopback-only
default.

The proxy builds one ``Authenticator`` (``build_authenticator``), starts it in its lifespan, calls
``authenticate(authorization_header, peer_ip)`` for every request, and closes it at shutdown.
"""

from clearance.auth.authenticator import Authenticator, build_authenticator
from clearance.auth.config import ApiKeysConfig, AuthConfig, IssuerConfig, JwksConfig

__all__ = [
    "ApiKeysConfig",
    "AuthConfig",
    "Authenticator",
    "IssuerConfig",
    "JwksConfig",
    "build_authenticator",
]
