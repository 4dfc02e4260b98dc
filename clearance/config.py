"""The configuration file, modelled with pydantic.

``load_config`` validates the whole file and reports every problem at once, each with its key path and a hint, as
a ``ConfigError``. Secrets are never written inline: a credential names an environment variable or a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from clearance.approvals.settings import ApprovalSettings
from clearance.audit.checkpointer import IntegrityConfig
from clearance.audit.originals import OriginalsConfig
from clearance.audit.retention import RetentionConfig
from clearance.audit.sink_config import SinksConfig
from clearance.audit.spool import SpoolConfig
from clearance.auth.config import AuthConfig, check_https
from clearance.db.config import DatabaseConfig
from clearance.detect.config import DetectionConfig
from clearance.exceptions import ConfigError
from clearance.limits.config import LimitsConfig
from clearance.secretref import SecretRef

UpstreamKind = Literal["openai", "ollama"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DrainConfig(_Strict):
    """How the gateway stops on SIGTERM or SIGINT (docs/scaling.md, "Draining"): ``/readyz`` answers 503 at once, new
    connections are still taken for ``grace`` seconds (a load balancer sees readiness fail and stops sending), then
    the gateway stops listening and lets what is in flight finish until ``deadline`` seconds after the signal; what
    is left then is cut, and recorded as cut. A second signal stops at once."""

    grace: Annotated[float, Field(ge=0)] = 5.0
    """Seconds after the signal during which new connections are still accepted and served."""
    deadline: Annotated[float, Field(gt=0)] = 25.0
    """Seconds after the signal that in-flight requests and streams may take to finish. The default fits the
    30 seconds Kubernetes waits before it kills a pod (``terminationGracePeriodSeconds``), leaving time to flush
    the audit queue."""

    @model_validator(mode="after")
    def _grace_within_deadline(self) -> DrainConfig:
        if self.grace > self.deadline:
            raise ValueError("server.drain.grace must not exceed server.drain.deadline: the grace is part of it")
        return self


class ServerConfig(_Strict):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8080
    max_body_bytes: Annotated[int, Field(gt=0)] = 10 * 1024 * 1024
    """Requests with a larger body are refused with 413 before they are read whole."""
    max_json_depth: Annotated[int, Field(ge=2, le=512)] = 64
    """JSON nested deeper than this is refused before it is walked: 400 in a request, 502 in an upstream's
    answer. Real API payloads nest a few levels; a deep one only exists to exhaust the gateway."""
    header_timeout: Annotated[float, Field(gt=0)] = 15.0
    """Seconds a connection may take to send a request's headers, counted from when it opened or from the end
    of its previous answer (so also how long an idle keep-alive connection stays open). A client that is slower,
    or silent, is disconnected."""
    body_timeout: Annotated[float, Field(gt=0)] = 60.0
    """Seconds a request's whole body may take to arrive once its headers did; a slower one gets 408 and the
    connection is closed."""
    instance_id: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    """This gateway instance's name in audit records. None: ``host:pid``."""
    workers: Annotated[int, Field(ge=1, le=1024)] | Literal["auto"] = 1
    """Worker processes serving the one port (``clearance serve --workers`` wins over it); ``auto``: one per CPU
    this process may run on. More than 1: a supervisor migrates the database and starts the bundled local model
    once, then runs the workers and restarts one that dies (docs/scaling.md). An in-memory SQLite database cannot
    be shared by workers: more than one needs a database file or PostgreSQL."""
    metrics_public: bool = False
    """Serve ``/metrics`` and the details of ``/readyz`` (upstream names and states) to every caller. Off: only to
    loopback callers and authenticated ones; others get 403 for ``/metrics`` and a bare status from ``/readyz``.
    Behind a reverse proxy on the same host every caller looks like loopback: keep the proxy from forwarding
    these two paths, or bind the gateway elsewhere."""
    drain: DrainConfig = DrainConfig()
    """How a SIGTERM or SIGINT stops the gateway without cutting requests in flight."""


class Timeouts(_Strict):
    """Seconds. ``first_byte`` is until the upstream's response headers; ``idle`` between two stream chunks."""

    connect: Annotated[float, Field(gt=0)] = 5.0
    first_byte: Annotated[float, Field(gt=0)] = 60.0
    idle: Annotated[float, Field(gt=0)] = 60.0
    total: Annotated[float, Field(gt=0)] = 600.0


class Credential(SecretRef):
    """The upstream's credential, and how it is sent."""

    header: str = "Authorization"
    scheme: str | None = "Bearer"

    def header_value(self) -> str:
        secret = self.resolve()
        return f"{self.scheme} {secret}" if self.scheme else secret


class ModelRoute(_Strict):
    """A model an upstream serves. Callers ask for ``name`` or any alias; the upstream is sent ``upstream_name``."""

    name: Annotated[str, Field(min_length=1)]
    upstream_name: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def target(self) -> str:
        return self.upstream_name or self.name


class UpstreamConfig(_Strict):
    name: Annotated[str, Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")]
    base_url: HttpUrl
    """OpenAI kind: the URL that ends where ``/chat/completions`` is appended (usually ``…/v1``).
    Ollama kind: the server's root (``http://host:11434``). Redirects are never followed: an upstream that
    answers with one (3xx) fails the request with 502, so set the address it redirects to."""
    kind: UpstreamKind = "openai"
    models: tuple[ModelRoute, ...] = ()
    """Empty: ask the upstream for its models when the gateway starts."""
    timeouts: Timeouts = Timeouts()
    credentials: Credential | None = None

    @field_validator("models", mode="before")
    @classmethod
    def _names_as_models(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value

    @property
    def root(self) -> str:
        return str(self.base_url).rstrip("/")


class AuditConfig(_Strict):
    """The audit trail, kept in the gateway's database (``database``)."""

    url: str | None = None
    """The older name of ``database.url``, still read so that configuration files written for earlier releases keep
    working. Code reads ``database.url``, which holds this value when it is set."""
    max_text_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    """The most bytes of the request and of the answer a record keeps (record modes ``full`` and ``masked``); a
    longer one is cut there and the record flagged ``truncated``."""
    export_max_rows: Annotated[int, Field(ge=1)] = 100_000
    """The most records one export (``GET /admin/v1/records/export``) sends; a filter that matches more is refused
    (``export_too_large``) before anything is sent: narrow it (``since``/``until``) and export each part."""
    integrity: IntegrityConfig = IntegrityConfig()
    """Signed checkpoints of the audit tree (docs/audit-integrity.md); off without ``signing_key``."""
    retention: RetentionConfig = RetentionConfig()
    """How long records are kept per level (docs/audit.md, Retention); purges are signed, so it needs a key."""

    @model_validator(mode="after")
    def _retention_is_signed(self) -> AuditConfig:
        if self.retention.enabled and self.integrity.signing_key is None:
            raise ValueError(
                "audit.retention needs audit.integrity.signing_key: each purge is signed so that clearance audit "
                "verify can tell it from a deletion"
            )
        return self

    originals: OriginalsConfig | None = None
    """The original request and answer, sealed per record (docs/audit.md); off (None) by default."""
    sinks: SinksConfig = SinksConfig()
    """Where written records are streamed besides the database: JSON lines, syslog, HTTP (docs/audit.md, "Sinks")."""
    spool: SpoolConfig = SpoolConfig()
    """Where records wait while the audit store is down (docs/audit.md, "Never lose a record")."""


class LoggingConfig(_Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"


class TelemetryConfig(_Strict):
    """OpenTelemetry traces (docs/observability.md): a span per pipeline stage, exported over OTLP/HTTP. Needs the
    ``otel`` extra (``pip install 'clearance[otel]'``); without this section nothing of OpenTelemetry is loaded.
    The standard ``OTEL_EXPORTER_OTLP_*`` environment variables (endpoint, headers, timeout, certificate,
    compression) and ``OTEL_SERVICE_NAME`` are honoured where the keys below are not set."""

    otlp_endpoint: HttpUrl | None = None
    """Where spans are sent: the collector's traces URL (``http://127.0.0.1:4318/v1/traces``). None: from
    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, or ``OTEL_EXPORTER_OTLP_ENDPOINT`` plus ``/v1/traces``."""
    service_name: Annotated[str, Field(min_length=1, max_length=128)] | None = None
    """The ``service.name`` of every span. None: ``OTEL_SERVICE_NAME``, else ``clearance``."""
    sample_ratio: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    """The share of new traces recorded (by trace id). A request that carries a ``traceparent`` follows its
    caller's sampling decision instead."""


class MaskingConfig(_Strict):
    hash_key: SecretRef | None = None
    """The key of the ``hash`` operator (HMAC-SHA256). Without one, a random key is made at start: hashes are
    then stable only within one gateway process, not across restarts or instances."""
    allow_token_ids: bool = False
    """Forward ``prompt``/``input`` given as token ids, which cannot be inspected. Off: they are refused (400)."""


class PolicySettings(_Strict):
    file: Path | None = None
    """The data policy file (docs/policy.md). None: the built-in default (restricted data masked both ways)."""
    reload_interval: Annotated[float, Field(gt=0)] = 2.0
    """Seconds between two checks of the file for changes (SIGHUP reloads at once)."""


class ConsoleOidcConfig(_Strict):
    """The console's sign-in: OIDC authorization code with PKCE at one of the trusted issuers."""

    issuer: Annotated[str, Field(min_length=1)]
    """One of ``auth.issuers``: its keys verify the ID token and its claim mapping (groups, email) makes the
    identity, so a console user is the same identity, with the same roles, as on the API."""
    client_id: Annotated[str, Field(min_length=1)]
    client_secret: SecretRef | None = None
    """For a confidential client; absent: a public client (PKCE protects the code either way)."""
    redirect_url: Annotated[str, Field(min_length=1)]
    """This gateway's ``/console/callback`` as the browser reaches it (registered at the provider)."""
    scopes: tuple[str, ...] = ("openid", "email", "profile")

    @field_validator("redirect_url")
    @classmethod
    def _redirect_is_callback(cls, value: str) -> str:
        check_https(value, "console.oidc.redirect_url")
        if not value.rstrip("/").endswith("/console/callback"):
            raise ValueError("must be this gateway's /console/callback (e.g. https://gw.example.com/console/callback)")
        return value

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if "openid" not in value:
            raise ValueError("must include openid: the sign-in needs an ID token")
        return value


class ConsoleSessionConfig(_Strict):
    secret: SecretRef | None = None
    """Signs the session cookie (at least 32 characters). Absent: a random key per process, so sessions end at a
    restart and do not carry across instances (a warning says so at start)."""
    idle_timeout: Annotated[float, Field(gt=0)] = 1800.0
    """Seconds without a request after which the session ends."""
    absolute_timeout: Annotated[float, Field(gt=0)] = 43200.0
    """Seconds after sign-in at which the session ends, however busy."""


class ConsoleConfig(_Strict):
    """The web console under ``/console`` (docs/console.md)."""

    enabled: bool = True
    oidc: ConsoleOidcConfig | None = None
    """Absent: no sign-in; the console serves loopback callers only, as the anonymous caller (as the data path
    does without authentication)."""
    session: ConsoleSessionConfig = ConsoleSessionConfig()


class GatewayConfig(_Strict):
    server: ServerConfig = ServerConfig()
    upstreams: tuple[UpstreamConfig, ...] = ()
    audit: AuditConfig = AuditConfig()
    database: Annotated[DatabaseConfig, Field(validate_default=True)] = DatabaseConfig()
    """Declared after ``audit``: its validator reads ``audit.url``, the older name of ``database.url``."""
    logging: LoggingConfig = LoggingConfig()
    auth: AuthConfig = AuthConfig()
    detection: DetectionConfig = DetectionConfig()
    masking: MaskingConfig = MaskingConfig()
    policy: PolicySettings = PolicySettings()
    approvals: ApprovalSettings = ApprovalSettings()
    console: ConsoleConfig = ConsoleConfig()
    telemetry: TelemetryConfig | None = None
    """OpenTelemetry traces; None (the default): no tracing, and nothing of OpenTelemetry is imported."""
    limits: LimitsConfig = LimitsConfig()
    """Rate limits per identity and per model, counted in Redis across instances (docs/limits.md)."""

    @field_validator("database")
    @classmethod
    def _audit_url_is_database_url(cls, database: DatabaseConfig, info: ValidationInfo) -> DatabaseConfig:
        """``audit.url`` is read as ``database.url``; a file that sets both to different URLs is refused, since one
        of them would be silently ignored."""
        audit = info.data.get("audit")
        legacy = audit.url if isinstance(audit, AuditConfig) else None
        if legacy is None or legacy == database.url:
            return database
        if "url" in database.model_fields_set:
            raise ValueError(
                "audit.url and database.url name different databases: keep only database.url "
                "(audit.url is its older name)"
            )
        return database.model_copy(update={"url": legacy})

    @model_validator(mode="after")
    def _unique_names(self) -> GatewayConfig:
        seen: dict[str, str] = {}
        names: set[str] = set()
        for up in self.upstreams:
            if up.name in names:
                raise ValueError(f"upstream name {up.name!r} is used twice")
            names.add(up.name)
            for route in up.models:
                for alias in (route.name, *route.aliases):
                    if alias in seen and seen[alias] != up.name:
                        raise ValueError(
                            f"model {alias!r} is served by both {seen[alias]!r} and {up.name!r}: "
                            "give one of them another name or alias"
                        )
                    seen[alias] = up.name
        return self

    @model_validator(mode="after")
    def _limited_models_are_served(self) -> GatewayConfig:
        """``limits.models`` names routes' models; checked here when every upstream lists its models (otherwise
        at start, once they are discovered)."""
        if not self.limits.models or any(not up.models for up in self.upstreams):
            return self
        served = {route.name for up in self.upstreams for route in up.models}
        if unknown := unserved_limits(self.limits, served):
            raise ValueError(unknown)
        return self

    @model_validator(mode="after")
    def _console_issuer_is_trusted(self) -> GatewayConfig:
        oidc = self.console.oidc
        if oidc is not None and oidc.issuer not in {i.issuer for i in self.auth.issuers}:
            raise ValueError(
                f"console.oidc.issuer {oidc.issuer!r} is not one of auth.issuers: add it there (its claim mapping "
                "makes the console's identities)"
            )
        return self


def unserved_limits(limits: LimitsConfig, served: set[str]) -> str | None:
    """What is wrong with ``limits.models`` given the models the routes serve (by name), or None."""
    unknown = sorted(set(limits.models) - served)
    if not unknown:
        return None
    return (
        f"limits.models names {', '.join(map(repr, unknown))}, which no upstream serves: use a model's name (not an "
        f"alias) from {', '.join(sorted(served)) or 'no model'}"
    )


_HINTS = {
    "extra_forbidden": "unknown key: check its spelling against examples/clearance.yaml",
    "missing": "this key is required",
    "url_parsing": "expected a URL such as http://127.0.0.1:8000/v1",
    "literal_error": "",
}


def _format_errors(exc: ValidationError) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        msg = err["msg"].removeprefix("Value error, ")
        hint = _HINTS.get(err["type"])
        out.append((path, f"{msg} ({hint})" if hint else msg))
    return out


def parse_config(data: Any, *, source: str = "configuration") -> GatewayConfig:
    """Validate already-parsed data; every error is reported at once."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping at the top level", [("(top level)", "not a mapping")])
    try:
        return GatewayConfig.model_validate(data)
    except ValidationError as exc:
        errors = _format_errors(exc)
        raise ConfigError(f"{source}: {len(errors)} error(s)", errors) from None


def load_config(path: str | Path) -> GatewayConfig:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}", [(str(path), "cannot read")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise ConfigError(f"{path}: invalid YAML at {where}", [(where, str(exc))]) from None
    return parse_config(data, source=str(path))
