"""The document shapes, one module per family; ``ALL`` lists every template in a fixed order."""

from __future__ import annotations

from bench.heldout.shapes import code, configs, logs, messages, payloads, prose, tables
from bench.heldout.template import Template

ALL: tuple[Template, ...] = (
    tables.TEMPLATES + configs.TEMPLATES + messages.TEMPLATES + logs.TEMPLATES + payloads.TEMPLATES
    + code.TEMPLATES + prose.TEMPLATES
)  # fmt: skip
