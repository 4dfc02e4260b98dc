"""Where the gateway finds a secret: an environment variable or a file, never the value written in the configuration.

It sits low in the package so that every configuration section (the gateway's, the approvals' notifiers') names its
secrets the same way.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from clearance.exceptions import ConfigError


class SecretRef(BaseModel):
    """Where the gateway finds a secret. Exactly one of ``env`` and ``file``; never the value itself."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("set exactly one of 'env' (an environment variable) or 'file' (a path)")
        return self

    def resolve(self) -> str:
        """Read the secret now. Raises ``ConfigError`` naming the variable or file, never the value."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise ConfigError(f"environment variable {self.env} is not set")
            return value.strip()
        assert self.file is not None
        try:
            return self.file.read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {self.file}: {exc.strerror}") from None
