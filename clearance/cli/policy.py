"""``clearance policy check FILE`` and ``clearance policy test FILE …``: validate a policy, and try it on a request
without running a gateway (the same detection, classification, decision and masking the gateway applies;
``--config`` takes the detection and masking settings, custom detectors and their declared levels included, from a
gateway configuration file)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from clearance.cli import policy_replay
from clearance.cli.scan import CONFIG_OPTION, build_scanner, gateway_config
from clearance.enforce.inspector import build_inspector
from clearance.enforce.trial import declared_label, endpoint_named, trial_caller, try_request
from clearance.exceptions import ClearanceError, ConfigError, InvalidRequest
from clearance.levels import NO_DECLARED_LEVELS, DeclaredLevels
from clearance.models import Decision, Identity
from clearance.policy import Policy, evaluate, load_policy
from clearance.policy.schema import PolicyFile, RuleWhen


def _load(file: Path, declared: DeclaredLevels = NO_DECLARED_LEVELS) -> Policy:
    try:
        return load_policy(file, declared)
    except ConfigError as exc:
        table = Table(title=exc.message)
        table.add_column("key")
        table.add_column("problem")
        for path, message in exc.errors:
            table.add_row(Text(path), Text(message))
        Console(stderr=True).print(table)
        raise typer.Exit(1) from None


def _table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(cell) for cell in row))
    return table


def _conditions(when: RuleWhen) -> str:
    given = when.model_dump(exclude_defaults=True)
    return "; ".join(f"{k}={', '.join(map(str, v)) if isinstance(v, list | tuple) else v}" for k, v in given.items())


def _summary(source: PolicyFile) -> list[Table]:
    clearances = []
    for c in source.clearances:
        who = [*(f"group:{g}" for g in c.groups), *c.users, *(f"service:{s}" for s in c.service_accounts)]
        if c.anonymous:
            who.append("anonymous")
        clearances.append((", ".join(who), c.level, ", ".join(c.roles)))
    targets = [(f"model {m.name}", m.max_level) for m in source.models]
    targets += [(f"upstream {u.name}", u.max_level) for u in source.upstreams]
    rules = [
        (str(i), r.id, _conditions(r.when) or "(any request)", r.action, r.record or source.defaults.record)
        for i, r in enumerate(source.rules, 1)
    ]
    d = source.defaults
    defaults = [
        (
            "unknown identity",
            d.unknown_identity + (f" at {d.unknown_identity_level}" if d.unknown_identity_level else ""),
        ),
        ("unknown model", d.unknown_model + (f" up to {d.unknown_model_level}" if d.unknown_model_level else "")),
        ("label mismatch", d.label_mismatch),
        ("record", d.record),
        ("unlisted types", source.unlisted_type_level or source.levels[-1].name),
    ]
    return [
        _table("levels (lowest first)", ("level", "types"), [(lv.name, ", ".join(lv.types)) for lv in source.levels]),
        _table("clearances", ("who", "up to", "roles"), clearances),
        _table("models and upstreams", ("target", "may receive up to"), targets),
        _table("rules (first match decides)", ("#", "id", "when", "action", "record"), rules),
        _table("defaults", ("when", "then"), defaults),
    ]


def _identity(user: str | None, groups: list[str], service_account: str | None) -> Identity:
    names = [g for value in groups for g in value.split(",")]
    try:
        return trial_caller(user, service_account, names)
    except InvalidRequest as exc:
        typer.echo(f"{exc.message} (--user, --service-account)", err=True)
        raise typer.Exit(2) from None


def _report(decision: Decision, declared: str | None, sent: str | None) -> None:
    plan = decision.plan
    counts = ", ".join(f"{t}={n}" for t, n in sorted(decision.counts.items())) or "none"
    lines = [
        f"decision: {decision.action}",
        f"rule:     {decision.rule}",
        f"reasons:  {', '.join(decision.reasons)}",
        f"level:    {decision.level}" + (f" (declared: {declared})" if declared else ""),
        f"findings: {counts}",
        f"record:   {decision.record}",
    ]
    if decision.message:
        lines.append(f"message:  {decision.message}")
    if decision.approval is not None:
        a = decision.approval
        lines.append(f"approval: {a.approvals} of {', '.join(a.approvers)}, lasting {a.grant_seconds:g}s")
    if plan.active:
        masked = ", ".join(f"{t}={op}" for t, op in sorted(plan.operators.items()))
        if plan.otherwise:
            masked += f", any other type={plan.otherwise}"
        lines.append(f"masks:    {masked} (in the request and in answers)")
        lines.append(f"restore:  {'yes: the caller sees originals of placeholders' if plan.restore else 'no'}")
    lines.append("sent:     " + (sent if sent is not None else "(nothing: the request is not forwarded)"))
    for line in lines:
        typer.echo(line)


def make_policy_app() -> typer.Typer:
    """The ``policy`` command group."""
    policy_app = typer.Typer(help="Check data policies and try them on requests.", no_args_is_help=True)

    @policy_app.command("check")
    def check(
        file: Path = typer.Argument(..., help="The YAML policy file."),
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """Validate FILE; list every error (key path and hint), or summarise its levels, clearances and rules.

        With --config, FILE is checked with the levels that configuration's detection declares, as the gateway
        loads it (a declared level FILE contradicts is an error)."""
        declared = gateway_config(config).detection.declared_levels() if config is not None else NO_DECLARED_LEVELS
        policy = _load(file, declared)
        typer.echo(f"{file}: valid (digest {policy.digest[:12]})")
        console = Console()
        for table in _summary(policy.source):
            console.print(table)

    @policy_app.command("test")
    def test(
        file: Path = typer.Argument(..., help="The YAML policy file."),
        text: str | None = typer.Argument(None, help="The request's text (or use --file)."),
        model: str = typer.Option(..., help="The model the request is for."),
        user: str | None = typer.Option(None, help="The caller's email or subject."),
        groups: list[str] = typer.Option([], help="The caller's groups (comma-separated, or repeat the option)."),
        service_account: str | None = typer.Option(None, help="A service account instead of a user."),
        upstream: str = typer.Option("", help="The upstream serving the model (if the policy names upstreams)."),
        endpoint: str = typer.Option("chat.completions", help="The endpoint, e.g. chat.completions, embeddings."),
        label: str | None = typer.Option(None, help="The declared classification (X-Data-Classification)."),
        text_file: Path | None = typer.Option(None, "--file", help="Read the request's text from this file."),
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """Decide a request under FILE without a gateway: the decision, its rule and reasons, and the masked text.

        Runs the gateway's own enforcement stage on the request a client would send to ENDPOINT. Hash-masked
        values match the gateway's only when --config sets masking.hash_key.
        """
        settings = gateway_config(config)
        policy = _load(file, settings.detection.declared_levels())  # one classification scheme, as the gateway's
        if text is not None and text_file is not None:
            typer.echo("give the text or --file, not both", err=True)
            raise typer.Exit(2)
        try:
            target = endpoint_named(endpoint)
        except InvalidRequest as exc:
            typer.echo(exc.message, err=True)
            raise typer.Exit(2) from None
        if text_file is not None:
            text = text_file.read_text()
        # The gateway's own stage, built as the gateway builds it: the dry run cannot disagree with the gateway.
        inspector = build_inspector(
            settings,
            build_scanner(settings, levels=policy.scheme),
            classify=policy.classify,
            decide=lambda facts: evaluate(policy, facts),
        )
        declared = declared_label(label)
        try:
            trial = try_request(
                inspector,
                target,
                text or "",
                identity=_identity(user, groups, service_account),
                model=model,
                upstream=upstream,
                declared=declared,
            )
        except ClearanceError as exc:
            typer.echo(f"refused:  {exc.http_status} {exc.code}: {exc.message}")
            raise typer.Exit(1) from None
        _report(trial.decision, declared, trial.sent)

    policy_replay.register(policy_app)
    return policy_app


def register(app: typer.Typer) -> None:
    app.add_typer(make_policy_app(), name="policy")
