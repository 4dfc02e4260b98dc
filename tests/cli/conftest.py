"""The CLI tests use the identity tests' provider and authenticator fixtures."""

from tests.auth.conftest import make_authenticator, node_modules, provider

__all__ = ["make_authenticator", "node_modules", "provider"]
