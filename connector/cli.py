"""The ``connector`` command line.

Admins script it, so its contract is stable: every summary command accepts ``--json`` and then prints
exactly one JSON object on stdout (logs go to stderr); exit code 0 means success, 2 bad configuration
or mappings, 1 any other failure. ``main(argv)`` is the entry point and is what the tests call.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from . import __version__
from .config import DEFAULT_CONFIG_PATH, ConnectorConfig, load_config
from .errors import EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, ConfigError, ConfigProblem, ConnectorError
from .logs import configure_logging
from .progress import console, progress
from .wording import at, count

if TYPE_CHECKING:  # the commands import what they run when they run it (a fast `--help`)
    from sqlalchemy.engine import Engine

    from .sync.results import RunResult
    from .sync.systems import Systems

__all__ = ["main", "cli"]


config_option = click.option(
    "--config", "-c", "config", type=click.Path(path_type=Path, dir_okay=False), envvar="CONNECTOR_CONFIG",
    default=None, help="TOML config file [default: ./connector.toml; env CONNECTOR_CONFIG]",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print one JSON object on stdout instead of text")


class _Exit(Exception):
    """Carries an exit code out of a command after its output was printed."""

    def __init__(self, code: int) -> None:
        self.code = code


def _emit(payload: dict[str, Any], as_json: bool, text: Callable[[], None]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(payload, default=str) + "\n")
    else:
        text()


def _fail(exc: ConnectorError, as_json: bool) -> NoReturn:
    if as_json:
        payload: dict[str, Any] = {"ok": False, "error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, ConfigError):
            payload["problems"] = [
                {"source": p.source, "key": p.key, "message": p.message, "hint": p.hint} for p in exc.problems
            ]
        sys.stdout.write(json.dumps(payload) + "\n")
    else:
        click.echo(f"error: {exc}", err=True)
    raise _Exit(exc.exit_code)


def _usage(message: str, as_json: bool) -> NoReturn:
    """A command line that cannot work as given: said as a usage error (exit 2, nothing started)."""
    if as_json:
        sys.stdout.write(json.dumps({"ok": False, "error": "UsageError", "message": message}) + "\n")
        raise _Exit(EXIT_CONFIG)
    raise click.UsageError(message, click.get_current_context(silent=True))


def _load_mappings(cfg: ConnectorConfig) -> Any:
    from .sync.admin import configured_mappings

    return configured_mappings(cfg)


def _config_error(exc: Any) -> ConfigError:
    from .sync.admin import mapping_config_error

    return mapping_config_error(exc)


def _load(config: Path | None, *, store_only: bool = False) -> ConnectorConfig:
    """The configuration; `store_only` for commands that call neither system (no credential is needed)."""
    path = config
    if path is None:
        if not DEFAULT_CONFIG_PATH.exists():
            raise ConfigError("no configuration file: pass --config PATH, set CONNECTOR_CONFIG, or create "
                              "./connector.toml (start from config.example.toml)")
        path = DEFAULT_CONFIG_PATH
    cfg = load_config(path, store_only=store_only)
    configure_logging(cfg.logging.level, cfg.logging.format)
    return cfg


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="connector")
def cli() -> None:
    """Keep HubSpot and Salesforce in agreement: one score, one status and one set of numbers per lead.

    Exit codes: 0 success, 2 bad configuration, mappings or command line (nothing was started), 1 any other
    failure.
    """


@cli.command()
@click.option("--live", is_flag=True, help="also check the mappings against both systems' field metadata")
@config_option
@json_option
def validate(live: bool, config: Path | None, as_json: bool) -> None:
    """Check the configuration and the mapping files without starting anything."""
    from .sync.admin import validate_live

    try:
        cfg = _load(config)
        mappings = _load_mappings(cfg)
        suggestions = validate_live(cfg, mappings) if live else []
    except ConnectorError as exc:
        _fail(exc, as_json)
    mappings_dir = cfg.mappings.directory
    hubspot = None if cfg.sandbox.enabled or cfg.hubspot is None else {
        "base_url": cfg.hubspot.base_url, "auth": cfg.hubspot.auth}
    salesforce = None if cfg.sandbox.enabled or cfg.salesforce is None else {
        "instance_url": cfg.salesforce.instance_url, "auth": cfg.salesforce.auth,
        "api_version": cfg.salesforce.api_version}
    payload: dict[str, Any] = {
        "ok": True,
        "config": str(config or DEFAULT_CONFIG_PATH),
        "sandbox": cfg.sandbox.enabled,
        "store": cfg.store.url.split(":", 1)[0],
        "hubspot": hubspot,
        "salesforce": salesforce,
        "mappings": str(mappings_dir),
        "mapped_fields": {"contacts": len(mappings.contacts.fields),
                          "opportunities": len(mappings.opportunities.fields) if mappings.opportunities else 0},
        "problems": [],
        "suggestions": [{"source": p.source, "key": p.key, "message": p.message, "hint": p.hint} for p in suggestions],
    }

    def text() -> None:
        target = "the built-in sandbox" if cfg.sandbox.enabled else "HubSpot and Salesforce"
        fields = payload["mapped_fields"]
        from sqlalchemy.engine import make_url

        shown = make_url(cfg.store.url).render_as_string(hide_password=True)  # a PostgreSQL URL may hold one
        click.echo(f"configuration OK: syncs {target}, state in {shown}")
        click.echo(f"mappings OK: {fields['contacts']} contact fields, {fields['opportunities']} opportunity "
                   f"fields in {mappings_dir}/")
        for p in suggestions:
            click.echo(f"suggestion: {p}")

    _emit(payload, as_json, text)


@cli.command()
@click.option("--people", type=click.IntRange(min=0), default=2000, show_default=True, help="people to seed")
@click.option("--seed", type=int, default=42, show_default=True, help="seed of the generated data")
@click.option("--config-out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="write a connector config that points at the sandbox here")
@click.option("--rate-limits", type=click.Choice(["real", "off"]), default="real", show_default=True,
              help="real: behave like production accounts; off: for engine benchmarks")
@click.option("--faults", default=None, help="fault spec, e.g. '503:0.02,429-retry@*/search:x3'")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="where the emulators keep their data [default: a temporary directory]")
@click.option("--search-lag", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="seconds before a HubSpot record created or changed is found by search (0: at once)")
@click.option("--bulk-jobs", type=click.Choice(["realistic", "instant"]), default="realistic", show_default=True,
              help="realistic: Salesforce Bulk 2.0 jobs take time scaled to their size; instant: for benchmarks")
def sandbox(people: int, seed: int, config_out: Path | None, rate_limits: str, faults: str | None,
            data_dir: Path | None, search_lag: float, bulk_jobs: str) -> None:
    """Serve the HubSpot and Salesforce emulators until SIGTERM.

    Prints one JSON line on stdout with both base URLs, tokens and the CA file. With --config-out, writes a
    connector config pointing at them (absolute paths: it works from any directory).
    """
    from .sandbox.runner import serve_forever  # the sandbox is an edge: imported only when asked for

    try:
        serve_forever(people=people, seed=seed, config_out=config_out, rate_limits=rate_limits == "real",
                      faults=faults, data_dir=data_dir, search_lag_ms=round(search_lag * 1000),
                      bulk_jobs="instant" if bulk_jobs == "instant" else "realistic")
    except ConnectorError as exc:
        _fail(exc, False)


@cli.command()
@config_option
@json_option
def pull(config: Path | None, as_json: bool) -> None:
    """Pull what changed in both systems into the state store: people, their engagement and opportunities
    (the groups in [sync] objects). Writes nothing to either system."""
    from .store import open_engine
    from .sync import CycleOptions, run_pull

    try:
        cfg = _load(config)
        mappings = _load_mappings(cfg)  # the people streams read what the mappings name, as the sync's pull does
        engine = open_engine(cfg.store.url)
        with progress(not as_json):
            summary = run_pull(engine, _opener(cfg, engine, action="pulled"),
                               CycleOptions.from_config(cfg, mappings, command="pull")).to_json()
    except ConnectorError as exc:
        _fail(exc, as_json)

    def text() -> None:
        calls = summary["api_calls"]
        click.echo(f"pull finished in {summary['seconds']:.1f} s (run {summary['run_id']}):")
        for name, stream in summary["streams"].items():
            click.echo(f"  {name:<22} {stream['mode']:<18} new {stream['new']:>7}  changed {stream['changed']:>7}  "
                       f"unchanged {stream['unchanged']:>7}")
        for system in ("hubspot", "salesforce"):
            click.echo(f"  {system} API calls: {calls.get(system, {}).get('total', 0)}")

    _emit(summary, as_json, text)


@cli.command()
@click.option("--people", type=click.IntRange(min=0), default=2000, show_default=True, help="people to seed")
@click.option("--seed", type=int, default=42, show_default=True, help="seed of the generated data")
@click.option("--store", "store_url", default="sqlite:///./connector-demo.db", show_default=True,
              help="state store for the demo (a SQLite file is started afresh)")
@click.option("--rate-limits", type=click.Choice(["real", "off"]), default="real", show_default=True)
@click.option("--mappings", "mappings_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="the mapping files to reconcile with [default: the ones shipped with the connector]")
@click.option("--search-lag", type=click.FloatRange(min=0), default=5.0, show_default=True,
              help="seconds before a HubSpot record created or changed is found by search (0: at once)")
@click.option("--bulk-jobs", type=click.Choice(["realistic", "instant"]), default="realistic", show_default=True,
              help="realistic: Salesforce Bulk 2.0 jobs take time scaled to their size; instant: for benchmarks")
@json_option
def demo(people: int, seed: int, store_url: str, rate_limits: str, mappings_dir: Path | None, search_lag: float,
         bulk_jobs: str, as_json: bool) -> None:
    """Start a sandbox of its own, set it up, sync it twice (the second sync writes nothing) and tell what
    happened; the store stays, with a config for `explain` and `status` beside it."""
    from .config import MappingsConfig, shipped_mappings
    from .demo import run_demo

    mappings_dir = (mappings_dir or shipped_mappings()).resolve()
    try:
        # a mapping (not a SandboxConfig): the config's before-validator reads `sandbox` as one
        _load_mappings(ConnectorConfig.model_validate({"sandbox": {"enabled": True},
                                                       "mappings": MappingsConfig(directory=mappings_dir)}))
        summary = run_demo(people=people, seed=seed, store_url=store_url, rate_limits=rate_limits == "real",
                           mappings_dir=mappings_dir, say=(lambda _line: None) if as_json else click.echo,
                           search_lag_ms=round(search_lag * 1000),
                           bulk_jobs="instant" if bulk_jobs == "instant" else "realistic")
    except ConnectorError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit(summary, True, lambda: None)


@cli.command(name="reconcile")
@config_option
@json_option
def reconcile_command(config: Path | None, as_json: bool) -> None:
    """Reconcile pulled records into unified people (from the store; no API calls, nothing written to the systems)."""
    import time

    from .store import open_engine
    from .sync import run_reconcile

    try:
        cfg = _load(config, store_only=True)
        mappings = _load_mappings(cfg)
        summary = run_reconcile(open_engine(cfg.store.url), mappings.contacts,
                                lambda: int(time.time() * 1000)).to_json()
    except ConnectorError as exc:
        _fail(exc, as_json)

    def text() -> None:
        click.echo(f"reconciled {count(summary['people'], 'person')} in {summary['seconds']:.1f} s (run "
                   f"{summary['run_id']}): {summary['linked_in_both']:,} linked across both systems, "
                   f"{count(summary['duplicates'], 'duplicate record')} listed for review")
        click.echo(f"  stored: {count(summary['fields_changed'], 'field value')} changed, "
                   f"{count(summary['conflicts_recorded'], 'settled conflict')} added to the audit log")
        for system, w in summary["planned_writes"].items():
            click.echo(f"  {system}: would create {w['creates']:,} and update {count(w['updates'], 'record')} "
                       f"({count(w['field_changes'], 'field change')}; `connector plan` shows them, `connector "
                       "push` writes them)")
        if summary["issues"]:
            click.echo(f"  {count(summary['issues'], 'value')} need attention and were left untouched "
                       "(`connector issues` lists them, with the fix)")

    _emit(summary, as_json, text)


@cli.command()
@click.argument("who")
@config_option
@json_option
def explain(who: str, config: Path | None, as_json: bool) -> None:
    """Show one person's unified record: every field's value, where it came from and why it won.

    WHO is a person id, any e-mail address of the person (additional HubSpot addresses too), or the id
    of any HubSpot or Salesforce record that is or was theirs (merged-away ones included).
    """
    from .store import open_engine
    from .sync.review import explain as explained

    try:
        cfg = _load(config, store_only=True)
        mappings = _mappings_or_none(cfg)
        found = explained(open_engine(cfg.store.url), who, mappings.contacts if mappings else None,
                          mappings.companies if mappings else None)
    except ConnectorError as exc:
        _fail(exc, as_json)
    if as_json:
        _emit({"ok": True, **found}, True, lambda: None)
        return
    from rich.table import Table

    out = console()
    out.print(f"[bold]{found['person_id']}[/bold]  {found['email'] or ''}")
    out.print("linked records: " + ", ".join(f"{link['system']} {link['object_type']} {link['record_id']}"
                                                 for link in found["links"]))
    table = Table("field", "value", "from", "record", "rule", "time basis")
    for name, f in found["fields"].items():
        table.add_row(name, "" if f["value"] is None else str(f["value"]), f["system"] or "", f["record_id"] or "",
                      f["rule"], f["time_basis"])
    out.print(table)
    for c in found["conflicts"][:10]:
        out.print(f"conflict on {c['field']}: {c['winner']['system']} {c['winner']['value']!r} won over "
                      f"{c['loser']['system']} {c['loser']['value']!r} ({c['rule']})")
    for h in found.get("held", []):
        out.print(f"[bold]held[/bold] ({h['code']}): {h['message']}", markup=True, highlight=False)
        out.print(f"  to decide: {h['hint']}", highlight=False)
    company = found.get("company")
    if company:
        out.print(f"company: HubSpot company {company['hubspot_company_id'] or '-'}, "
                  f"Salesforce Account {company['account_id'] or '-'}", markup=False)
        for name, f in company["fields"].items():
            out.print(f"  company.{name} = {f['value']!r} (from {f['system'] or 'neither'} {f['record_id'] or ''}, "
                      f"{f['rule']})", markup=False, highlight=False)
    for n in found["not_created"]:
        out.print(f"not in {n['system']}: {n['reason']}", markup=False)
    for i in found.get("issues", []):
        out.print(f"not carried: {i['system']} {i['field']} {i['value']!r}: {i['reason']} (fix: {i['fix']})",
                  markup=False, highlight=False)
    rec = found["reconciled"]
    if rec["run_id"] is not None:
        out.print(f"reconciled by run {rec['run_id']} at {at(rec['at'])}; these values last changed at "
                      f"{at(rec['record_changed_at'])}", markup=False)
    if found.get("score"):
        _explain_score(out, found["score"])


def _explain_score(out: Any, score: dict[str, Any]) -> None:
    """The score part of `connector explain`: the figures, their breakdown, and every status transition."""
    from rich.table import Table

    grade = f", grade {score['grade']}" if score["grade"] else ""
    out.print(f"score {score['score']} (fit {score['fit']}, engagement {score['engagement']}{grade}) under scoring "
              f"model version {score['model']['version']} ({score['model']['hash']}): {score['reason']}",
              markup=False, highlight=False)
    table = Table("rule", "points", "touches", "part")
    for b in score["breakdown"]:
        table.add_row(b["rule"], f"{b['points']:g}", str(b["touches"]), b["part"])
    out.print(table)
    out.print(f"status {score['status']} since {at(score['status_since'])}: {score['status_reason'] or ''}",
              markup=False, highlight=False)
    for t in score["transitions"]:
        out.print(f"  {at(t['at'])}  {t['from'] or '(new)'} -> {t['to']}  {t['reason']} ({t['system']}"
                  + (f" {t['source_id']}" if t["source_id"] else "") + ")", markup=False, highlight=False)


def _mappings_or_none(cfg: ConnectorConfig) -> Any:
    """The mappings, or None when the files do not load (explain still shows the stored record)."""
    try:
        return _load_mappings(cfg)
    except ConfigError:
        return None


def _opener(cfg: ConnectorConfig, engine: Engine, *, action: str = "synced") -> Callable[[], Systems]:
    """Opens both systems when called: a run calls it once it holds the store's lock (a busy store touches
    neither system)."""
    import time

    from .sync import open_systems

    return lambda: open_systems(cfg, engine, int(time.time() * 1000), action=action)


def _cycle(config: Path | None, *, command: str, pull: bool, dry_run: bool, sample: int = 10,
           full_plan: bool = False) -> RunResult:
    from .store import open_engine
    from .sync import CycleOptions, run_once

    cfg = _load(config)
    mappings = _load_mappings(cfg)  # a bad mapping file stops the run before any call or write
    engine = open_engine(cfg.store.url)
    return run_once(engine, _opener(cfg, engine), CycleOptions.from_config(
        cfg, mappings, command=command, pull=pull, dry_run=dry_run, sample=sample, full_plan=full_plan))


def _echo_cycle(summary: dict[str, Any]) -> None:
    """What this run did, in a few lines (the standing disagreements it left alone are in `connector status`)."""
    if "pull" in summary:
        streams = summary["pull"]["streams"]
        changed = sum(s["new"] + s["changed"] - s.get("echoes", 0) for s in streams.values())
        echoes = sum(s.get("echoes", 0) for s in streams.values())
        click.echo(f"pulled: {count(changed, 'new or changed record')} ({count(echoes, 'record')} "
                   "the connector wrote itself came back)")
    rec = summary["reconcile"]
    click.echo(f"reconciled: {count(rec['people'], 'person')}, {rec['linked_in_both']:,} linked in both systems, "
               f"{count(rec['duplicates'], 'duplicate')} listed for review")
    for c in rec["conflicts"][:5]:
        click.echo(f"  decided in this run: {c['field']} for {count(c['people'], 'person')} ({c['rule']}): the "
                   "winning value is written over the other system's")
    if rec.get("issues"):
        click.echo(f"  {count(rec['issues'], 'value')} cannot be carried and were left untouched (`connector issues` "
                   "lists them, with the fix)")
    if "push" in summary:
        push = summary["push"]
        for system, objects in push["written"].items():
            for obj, n in objects.items():
                click.echo(f"wrote {system} {obj}: {n['created']:,} created, {n['updated']:,} updated "
                           f"({count(n['fields_written'], 'value')}), {n['rejected']:,} rejected")
        if not push["written"]:
            click.echo("wrote nothing: both systems already agree")
        click.echo(f"write calls: HubSpot {push['write_calls']['hubspot']:,}, Salesforce "
                   f"{push['write_calls']['salesforce']:,}; {count(push['held_back'], 'parked record')} "
                   "waiting for a retry")
        for r in push["rejections_sample"][:5]:
            click.echo(f"  parked: {r['hint']}")
    calls = summary["api_calls"]
    click.echo(f"API calls in all: HubSpot {calls.get('hubspot', {}).get('total', 0):,}, Salesforce "
               f"{calls.get('salesforce', {}).get('total', 0):,}; {count(summary['parked'], 'record')} parked "
               "(`connector status`)")


def _plan_text(summary: dict[str, Any]) -> None:
    """`connector plan`'s text: totals, values per field (a rule change shows here), a sample, the cost."""
    from rich.table import Table

    out = console()
    plan = summary["plan"]
    table = Table("system", "object", "creates", "updates", "values", title="planned writes (nothing was written)")
    for key, n in sorted(plan["objects"].items()):
        system, obj = key.split(":", 1)
        table.add_row(system, obj, f"{n['create']:,}", f"{n['update']:,}", f"{n['fields']:,}")
    out.print(table if plan["objects"] else "planned writes: none, both systems agree")
    if plan.get("fields"):
        fields = Table("system", "object", "field", "values", title="values planned per field")
        for key, per in plan["fields"].items():
            system, obj = key.split(":", 1)
            for name, n in per.items():
                fields.add_row(system, obj, name, f"{n:,}")
        out.print(fields)
    if plan.get("changes"):
        flips = Table("system", "object", "field", "now", "would become", "records",
                      title="the same change planned for several records (a rule or value map at work)")
        for key, per in plan["changes"].items():
            system, obj = key.split(":", 1)
            for name, pairs in per.items():
                for p in pairs:
                    flips.add_row(system, obj, name, p["old"] or "(blank)", p["new"] or "(blank)", f"{p['records']:,}")
        out.print(flips)
    if plan["sample"]:
        diff = Table("system", "record", "field", "now", "would become", "why", title="sample of field changes")
        for row in plan["sample"]:
            # a record to be created is named by its address here (the terminal's reader asked to see it)
            record = f"new: {row['new_record_email']}" if row.get("new_record_email") else row["record"]
            diff.add_row(row["system"], f"{row['object_type']} {record}", row["field"],
                         "" if row["old"] is None else str(row["old"]), str(row["new"]), row["reason"])
        out.print(diff)
    for system, reasons in (plan.get("left_out") or {}).items():
        out.print(f"left out of {system}: {count(sum(reasons.values()), 'person')} in the other system only, by the "
                  "inclusion rules:", markup=False)
        for reason, n in list(reasons.items())[:8]:
            out.print(f"  {n:>6,}  {reason}", markup=False, highlight=False)
    since = plan.get("since_last_sync")
    if since:
        out.print(f"the mapping files changed since the last sync (run {since['last_sync_run']}):", markup=False)
        for f in since["fields"]:
            out.print(f"  {f['file']} fields.{f['field']}: {'; '.join(f['changes'])}: "
                      f"{count(f['values_planned'], 'value')} would be written", markup=False, highlight=False)
    issues = summary.get("reconcile", {}).get("issues")
    if issues:
        out.print(f"{count(issues, 'value')} cannot be carried and will be left untouched (`connector issues` "
                  "lists them after a sync, with the fix)", markup=False)
    looked = plan.get("lookup") or {}
    if looked.get("looked_up"):
        out.print(f"looked up before creating: {count(looked['looked_up'], 'create')}; {looked['adopted']:,} already "
                  f"there (linked, not created), {looked['linked']:,} found and left for the next sync, "
                  f"{looked['held']:,} held for review", markup=False)
    for system, f in summary["forecast"].items():
        left = "unknown" if f["remaining_today"] is None else f"{f['remaining_today']:,}"
        out.print(f"{system}: about {count(f['write_calls'], 'write call')}; {left} left of the connector's daily "
                  "share" + ("" if f["fits"] else " [bold red](does not fit)[/]"))


@cli.command()
@click.option("--apply/--dry-run", "apply", default=False, show_default=True,
              help="create what is missing, or only list it")
@config_option
@json_option
def setup(apply: bool, config: Path | None, as_json: bool) -> None:
    """Create the HubSpot properties the mappings need (in the connector's own group) and list the
    Salesforce custom fields an admin must add (created directly only on the local sandbox)."""
    from .sync.admin import set_up

    try:
        cfg = _load(config)
        report = set_up(cfg, _load_mappings(cfg), apply=apply)
    except ConnectorError as exc:
        _fail(exc, as_json)
    payload = {"ok": report.ok, **report.to_json()}
    def text() -> None:
        for line in report.lines():
            click.echo(line)

    _emit(payload, as_json, text)
    if apply and not report.ok:
        raise _Exit(EXIT_CONFIG)  # something only an admin can add, or a clash: the sync cannot run as mapped


@cli.command()
@click.argument("system", required=False)
@click.argument("object_name", metavar="[OBJECT]", required=False)
@click.option("--search", "word", default=None, metavar="WORD", help="only names or labels holding WORD")
@click.option("--refresh", is_flag=True, help="read the metadata again now instead of using the store's copy")
@config_option
@json_option
def fields(system: str | None, object_name: str | None, word: str | None, refresh: bool, config: Path | None,
           as_json: bool) -> None:
    """List the live properties (HubSpot contacts, deals) and fields (Salesforce Lead, Contact, Opportunity)
    with type, length, flags and values, and what the mapping files do with each. Any of them can be mapped
    as it is; [custom_fields] declares only those `connector setup` must create. The metadata read is kept
    in the store for a day (the output says how old it is; --refresh reads it again)."""
    from .setup.fields import UnknownTarget, select
    from .sync.admin import list_fields

    try:
        targets = select(system, object_name)
    except UnknownTarget as exc:
        _usage(str(exc), as_json)
    try:
        cfg = _load(config)
        payload = list_fields(cfg, targets, search=word, refresh=refresh)
    except ConnectorError as exc:
        _fail(exc, as_json)
    _emit(payload, as_json, lambda: _fields_text(payload))


def _fields_text(payload: dict[str, Any]) -> None:
    from rich.table import Table
    from rich.text import Text

    out = console()
    names = {"hubspot": "HubSpot", "salesforce": "Salesforce"}
    for o in payload["objects"]:
        age = o["age_seconds"]
        when = ("read just now" if not o["cached"] else
                f"read {_age(age)} ago, kept in the store (--refresh reads it again)")
        shown = len(o["fields"])
        found = f"{shown} of {o['total']} match {payload['search']!r}" if payload["search"] else str(o["total"])
        out.print(f"{names[o['system']]} {o['object']}: {found} ({when})", markup=False, highlight=False,
                  soft_wrap=True)
        table = Table("name", "label", "type", "length", "flags", "values", "mapped as")
        for r in o["fields"]:
            flags = [n for n, on in (("read-only", r["read_only"]), ("unique", r["unique"]),
                                     ("external id", r.get("external_id")), ("custom", r["custom"]),
                                     ("setup creates", r["setup_creates"])) if on]
            values = r["values"]
            shown_values = ", ".join(values[:4]) + (f", … (+{len(values) - 4})" if len(values) > 4 else "")
            mapped = ", ".join(m.removeprefix("fields.") for m in r["mapped_as"])
            cells = (r["name"], r["label"], r["type"], "" if r["length"] is None else str(r["length"]),
                     ", ".join(flags), shown_values, mapped)
            table.add_row(*(Text(c) for c in cells))  # labels and values are text, never markup
        if o["fields"]:
            out.print(table)
        for m in o["missing"]:
            fix = ("`connector setup` creates it" if m["setup_creates"]
                   else "not there: fix the name, or see `connector validate --live`")
            out.print(f"mapped but missing: {m['name']} ({', '.join(m['mapped_as'])}): {fix}", markup=False,
                      highlight=False)
    if payload["mappings_problems"]:
        out.print("the mapping files did not load (`connector validate` lists the problems): no mapping column",
                  markup=False, highlight=False)


def _age(seconds: int) -> str:
    """"40 s", "12 min", "3 h": how old the listed metadata is."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


@cli.command()
@click.option("--once", is_flag=True,
              help="run one cycle and exit (required: syncing on a schedule is `connector run`)")
@config_option
@json_option
def sync(once: bool, config: Path | None, as_json: bool) -> None:
    """Pull, reconcile and push once (--once): every create is looked up first, the agreed values are written
    to both systems, and what a system refuses is parked with its reason (`connector status`)."""
    if not once:
        _usage("sync runs one cycle and needs --once: `connector sync --once`; syncing on a schedule is "
               "`connector run`", as_json)
    try:
        with progress(not as_json):
            run = _cycle(config, command="sync", pull=True, dry_run=False)
    except ConnectorError as exc:
        _fail(exc, as_json)
    summary = run.to_json()
    _emit(summary, as_json, lambda: _echo_cycle(summary))
    if run.push is not None and run.push.rejected:
        raise _Exit(EXIT_OK)  # rejected records are parked with reasons: the run itself succeeded


@cli.command()
@click.option("--pull/--no-pull", default=False, show_default=True,
              help="pull first (into the store; still nothing is written to either system)")
@click.option("--sample", type=click.IntRange(min=1), default=10, show_default=True, help="diff rows per system")
@click.option("--field", "field_name", default=None, metavar="NAME",
              help="only this field (its name in either system, e.g. Title or jobtitle)")
@config_option
@json_option
def plan(pull: bool, sample: int, field_name: str | None, config: Path | None, as_json: bool) -> None:
    """Dry run: exactly what the next sync would write, and its API cost; writes nothing to either system.

    Shows the creates and updates per object, the values planned per field, a sample of field changes (now,
    would become, and the rule that decided), what the look-up before each create found, and the write
    calls against the daily share. With --json, every planned value is listed under plan.diffs."""
    try:
        with progress(not as_json):
            summary = _cycle(config, command="plan", pull=pull, dry_run=True,
                             sample=sample if field_name is None else 1_000_000, full_plan=as_json).to_json()
    except ConnectorError as exc:
        _fail(exc, as_json)
    if as_json:  # the address naming a new record is for the terminal's table; --json keeps person ids
        for key in ("sample", "diffs"):
            for row in summary["plan"].get(key, ()):
                row.pop("new_record_email", None)
    if field_name is not None:
        from .sync.planning import only_field

        summary = only_field(summary, field_name)
        summary["plan"]["sample"] = summary["plan"]["sample"][:2 * sample]

    def text() -> None:
        _plan_text(summary)

    _emit(summary, as_json, text)


@cli.command()
@config_option
@json_option
def push(config: Path | None, as_json: bool) -> None:
    """Reconcile what the store holds and write the changes to both systems: a sync without the pull."""
    try:
        with progress(not as_json):
            summary = _cycle(config, command="push", pull=False, dry_run=False).to_json()
    except ConnectorError as exc:
        _fail(exc, as_json)
    _emit(summary, as_json, lambda: _echo_cycle(summary))


@cli.command()
@click.argument("run_id", type=int)
@click.option("--field", "fields", multiple=True, metavar="NAME",
              help="only this field (a unified name such as job_title, or a native one such as jobtitle or Title); "
                   "repeatable")
@click.option("--dry-run", is_flag=True, help="show the plan and write nothing")
@config_option
@json_option
def revert(run_id: int, fields: tuple[str, ...], dry_run: bool, config: Path | None, as_json: bool) -> None:
    """Put back the values run RUN_ID replaced, where nobody changed them since (`connector status` lists runs).

    Pulls first, then shows the plan (per field: values to restore, values changed since and left alone)
    and, unless --dry-run, writes it like a sync: batched, rejections parked with reasons."""
    from .store import open_engine
    from .sync import CycleOptions
    from .sync.revert import run_revert

    def show(result: Any) -> None:
        if not as_json:
            _revert_plan_text(result.to_json())

    try:
        cfg = _load(config)
        mappings = _load_mappings(cfg)
        engine = open_engine(cfg.store.url)
        with progress(not as_json):
            result = run_revert(engine, _opener(cfg, engine, action="reverted"),
                                CycleOptions.from_config(cfg, mappings, command="revert"), run_id, fields=fields,
                                dry_run=dry_run, on_plan=show)
    except ConnectorError as exc:
        _fail(exc, as_json)
    summary = result.to_json()
    _emit(summary, as_json, lambda: _revert_done_text(summary))


def _revert_plan_text(summary: dict[str, Any]) -> None:
    """The plan, per field: values to restore and those left alone (why), with a sample of person ids."""
    run = summary["reverted_run"]
    if not summary["fields"]:
        click.echo(f"run {run} wrote nothing the write journal kept: nothing to revert")
        return
    click.echo(f"plan to revert run {run}: {count(summary['restore'], 'value')} to restore for "
               f"{count(summary['people'], 'person')}")
    why = {"changed_since": "changed since and left alone", "gone": "on records deleted or erased since",
           "created": "on records the run created (left as they are)", "kept": "cross-references or opt-outs (kept)",
           "already": "already back"}
    for f in summary["fields"]:
        left = "; ".join(f"{f[k]:,} {text}" for k, text in why.items() if f[k])
        click.echo(f"  {f['system']} {f['object_type']} {f['field']}: {count(f['restore'], 'value')} to restore"
                   + (f"; {left}" if left else ""))
        for outcome, label in (("restore", "to restore"), ("changed_since", "left alone")):
            people = f["sample"].get(outcome) or []
            if people:
                click.echo(f"    e.g. {label}: {', '.join(people[:5])}")


def _revert_done_text(summary: dict[str, Any]) -> None:
    if summary["dry_run"]:
        click.echo("dry run: nothing was written (run it without --dry-run to write the plan)")
        return
    push = summary["push"]
    if push is None:
        click.echo("nothing to write")
        return
    for system, objects in push["written"].items():
        for obj, n in objects.items():
            click.echo(f"wrote {system} {obj}: {n['updated']:,} updated ({count(n['fields_written'], 'value')}), "
                       f"{n['rejected']:,} rejected")
    for r in push["rejections_sample"][:5]:
        click.echo(f"  parked: {r['hint']}")
    click.echo(f"revert run {summary['run_id']} done; `connector revert {summary['run_id']}` would undo it")


@cli.command()
@click.option("--all", "include_resolved", is_flag=True,
              help="list every parked record (resolved ones too) instead of grouping them by cause")
@config_option
@json_option
def status(include_resolved: bool, config: Path | None, as_json: bool) -> None:
    """The last runs, the disagreements the mapping rules keep standing (no sync writes over them), and the
    parked records with their reasons. Reads the store only: no credentials needed."""
    from .store import open_engine
    from .sync.review import status as read_status

    try:
        cfg = _load(config, store_only=True)
        engine = open_engine(cfg.store.url)
        mappings = _mappings_or_none(cfg)
        payload = read_status(engine, mappings.contacts if mappings else None, include_resolved=include_resolved)
    except ConnectorError as exc:
        _fail(exc, as_json)

    def text() -> None:
        for run in payload["runs"]:
            calls = run["api_calls"]
            click.echo(f"run {run['id']} {run['command']:<9} {run['status']:<8} started {run['started']}  API calls "
                       f"HubSpot {calls.get('hubspot', {}).get('total', 0):,} Salesforce "
                       f"{calls.get('salesforce', {}).get('total', 0):,}"
                       + (f"  error: {run['error']}" if run["error"] else ""))
        for c in payload["standing_conflicts"]:
            click.echo(f"standing: {c['field']} differs for {count(c['people'], 'person')}, kept as each system holds "
                       f"it ({c['rule']})")
        if payload.get("value_issues"):
            click.echo(f"values the connector cannot carry: {payload['value_issues']:,} (`connector issues` lists "
                       "them, with the fix)")
        causes = payload["parked_by_cause"]
        if not causes:
            click.echo("no parked records")
        elif not include_resolved:
            total = sum(c["records"] for c in causes)
            click.echo(f"parked: {count(total, 'record')} by {count(len(causes), 'cause')} (`--all` lists each record)")
        for c in causes if not include_resolved else ():
            where = f"{c['system']} {c['object_type']}" + (f".{c['field']}" if c["field"] else "")
            e = c["example"]
            click.echo(f"  {c['records']:>6,}  {where}: {c['code']} ({c['stage']}); e.g. #{e['id']} {e['record_id']}: "
                       f"{e['hint'] or e['message']}")
        for p in payload["parked"] if include_resolved else ():
            resolved = f" [resolved: {p['resolution']}]" if p.get("resolution") else ""
            click.echo(f"parked #{p['id']} {p['system']} {p['object_type']} {p['record_id']} "
                       f"({count(p['attempts'], 'attempt')}): {p['hint'] or p['message']}{resolved}")

    _emit(payload, as_json, text)


@cli.command()
@click.argument("ids", nargs=-1, type=int)
@config_option
@json_option
def retry(ids: tuple[int, ...], config: Path | None, as_json: bool) -> None:
    """Make parked records due again (all, or the parked ids `connector status` shows); the next sync retries them."""
    import time

    from .store import open_engine
    from .store.pushes import requeue

    try:
        cfg = _load(config, store_only=True)
        n = requeue(open_engine(cfg.store.url), now_ms=int(time.time() * 1000), ids=ids)
    except ConnectorError as exc:
        _fail(exc, as_json)
    _emit({"ok": True, "requeued": n}, as_json,
          lambda: click.echo(f"{count(n, 'parked record')} will be retried by the next sync"))


@cli.command()
@config_option
@json_option
def duplicates(config: Path | None, as_json: bool) -> None:
    """Records that look like the same person as another but were not merged: for a person to review.

    Listed by the last reconciliation (`connector reconcile` or `connector sync`); the sync keeps each
    person in step through their primary record and leaves duplicates alone."""
    from .store import open_engine
    from .sync.review import duplicates as listed_duplicates

    try:
        cfg = _load(config, store_only=True)
        rows = listed_duplicates(open_engine(cfg.store.url))
    except ConnectorError as exc:
        _fail(exc, as_json)

    def text() -> None:
        if not rows:
            click.echo("no duplicates listed")
        for r in rows:
            click.echo(f"{r['system']} {r['object_type']} {r['record_id']} duplicates {r['kept'] or '?'} "
                       f"(person {r['person_id']}): {r['reason']}")
        click.echo(f"{count(len(rows), 'duplicate record')}; merge them in their system, the next sync follows "
                   "the merge")

    _emit({"ok": True, "duplicates": rows}, as_json, text)


@cli.command()
@click.option("--backtest", "new_file", type=click.Path(path_type=Path, dir_okay=False, exists=False), default=None,
              help="replay the stored timeline under this proposed scoring file beside the current one")
@click.option("--months", type=click.IntRange(min=1, max=60), default=6, show_default=True,
              help="how many months back the backtest replays")
@click.option("--html", "html_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="also write the backtest as a self-contained HTML page")
@config_option
@json_option
def score(new_file: Path | None, months: int, html_out: Path | None, config: Path | None, as_json: bool) -> None:
    """Score the people in the store with mappings/scoring.toml and summarise (nothing saved, no API calls:
    `connector sync` saves and publishes scores); with --backtest, compare a proposed model with it."""
    from .store import open_engine

    try:
        cfg = _load(config, store_only=True)
        mappings = _load_mappings(cfg)
        if mappings.scoring is None:
            raise ConfigError([ConfigProblem(str(cfg.mappings.directory), "scoring.toml",
                                             "no scoring file in the mappings directory",
                                             "add scoring.toml there (copy the one shipped in mappings/ to start)")])
        engine = open_engine(cfg.store.url)
        if new_file is not None:
            payload = _backtest(engine, mappings, new_file, months, html_out)
        else:
            from .sync.scoring import score_summary

            payload = score_summary(engine, mappings.scoring)
    except ConnectorError as exc:
        _fail(exc, as_json)
    if new_file is not None:
        from .score.backtest import render_text

        report = payload.pop("_report")
        _emit(payload, as_json, lambda: click.echo(render_text(report)))
        return

    def text() -> None:
        m = payload["model"]
        click.echo(f"scoring model version {m['version']} ({m['hash']}), MQL at {m['mql_threshold']} points: "
                   f"{count(payload['people'], 'person')} scored in {payload['seconds']:.1f} s (nothing saved)")
        click.echo("  statuses: " + ", ".join(f"{k} {v:,}" for k, v in payload["statuses"].items()))
        click.echo("  grades: " + ", ".join(f"{k} {v:,}" for k, v in payload["grades"].items()))
        click.echo("  scores: " + ", ".join(f"{k} {v:,}" for k, v in payload["score_bands"].items()))
        click.echo(f"  the next sync writes {count(payload['values_to_write'], 'value')} to publish them")

    _emit(payload, as_json, text)


def _backtest(engine: Engine, mappings: Any, new_file: Path, months: int, html_out: Path | None) -> dict[str, Any]:
    import time

    from .reconcile import MappingError
    from .score.backtest import render_html
    from .score.model import load_scoring
    from .sync.scoring import backtest_store

    try:
        new = load_scoring(new_file, [f.name for f in mappings.contacts.fields])
    except MappingError as exc:  # the proposed file is configuration too
        raise _config_error(exc) from exc
    now = int(time.time() * 1000)
    report = backtest_store(engine, mappings.scoring, new, start_ms=now - months * 30 * 86_400_000, end_ms=now)
    if html_out is not None:
        try:
            html_out.write_text(render_html(report), encoding="utf-8")
        except OSError as exc:
            raise ConnectorError(f"cannot write the HTML report: {exc.strerror}") from None
    return {"ok": True, "report": report.to_json(), **({"html": str(html_out)} if html_out else {}), "_report": report}


@cli.command()
@click.argument("kind", type=click.Choice(["funnel", "scoring", "sla"]))
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="first day of the period (YYYY-MM-DD, UTC) [default: 12 months back]")
@click.option("--csv", "csv_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="also write one CSV file per table into this directory")
@click.option("--html", "html_out", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="also write a self-contained HTML page with charts")
@config_option
@json_option
def report(kind: str, since: Any, csv_dir: Path | None, html_out: Path | None, config: Path | None,
           as_json: bool) -> None:
    """Reports from the store (no API calls, no credentials): `funnel` (stages, conversion, time in stage,
    won revenue, by lead source, owner and month), `sla` (the handoff clocks of `[sla]` in scoring.toml:
    met, breached, on time and due soon by owner and ISO week, median working hours to the first sales
    touch, the due-soon list) and `scoring` (how the MQLs turned out by score band, grade and rule,
    disqualification and recycle reasons, a suggested threshold that is never applied)."""
    import time
    from datetime import UTC

    from .store import open_engine

    now = int(time.time() * 1000)
    since_ms = int(since.replace(tzinfo=UTC).timestamp() * 1000) if since else now - 365 * 86_400_000
    try:
        cfg = _load(config, store_only=True)
        spec = _sla_spec(cfg) if kind == "sla" else None
        engine = open_engine(cfg.store.url)
        payload, text_lines = _report(kind, engine, since_ms, now, csv_dir, html_out, spec)
    except ConnectorError as exc:
        _fail(exc, as_json)
    _emit(payload, as_json, lambda: click.echo("\n".join(text_lines)))


def _sla_spec(cfg: ConnectorConfig) -> Any:
    """The `[sla]` table the SLA report judges by; without one there is no clock to report (exit 2)."""
    mappings = _load_mappings(cfg)
    spec = mappings.scoring.sla if mappings.scoring is not None else None
    if spec is None:
        raise ConfigError([ConfigProblem(str(cfg.mappings.directory), "scoring.toml [sla]",
                                         "no [sla] table in scoring.toml: there is no handoff clock to report",
                                         "add an [sla] table to scoring.toml (see the one shipped in mappings/)")])
    return spec


def _report(kind: str, engine: Engine, since_ms: int, now: int, csv_dir: Path | None, html_out: Path | None,
            spec: Any = None) -> tuple[dict[str, Any], list[str]]:
    """Compute one report, write its CSV files and page if asked; its JSON payload and its text."""
    from .report import calibration, funnel, render, sla_report

    if kind == "sla":
        report = sla_report.sla_report(engine, spec, since_ms, now)
        tables = sla_report.tables(report)
        title = "Handoff SLA"
        charts = [render.svg_bars("Breaches per week (ISO week of the MQL)",
                                  [(r["week"], r["breached"]) for r in report["by_week"]]),
                  render.svg_bars("Breaches by owner", [(r["owner"], r["breached"]) for r in report["by_owner"]])]
    elif kind == "funnel":
        report = funnel.funnel_report(engine, since_ms, now)
        tables = funnel.tables(report)
        title = "Funnel"
        charts = [render.svg_bars("People per stage", [(r["stage"], r["people"]) for r in report["stages"]]),
                  render.svg_bars("Won revenue by lead source",
                                  [(r["group"], r["won_revenue"]) for r in report["by"]["lead_source"]])]
    else:
        report = calibration.calibration_report(engine, since_ms, now)
        tables = calibration.tables(report)
        title = "Scoring calibration"
        charts = [render.svg_bars("Acceptance rate by score band at MQL time",
                                  [(r["band"], r["accepted_rate"] or 0.0) for r in report["by_band"]], percent=True),
                  render.svg_bars("Acceptance rate by grade",
                                  [(r["grade"], r["accepted_rate"] or 0.0) for r in report["by_grade"]], percent=True)]
    payload: dict[str, Any] = {"ok": True, "report": report}
    try:
        if csv_dir is not None:
            payload["csv"] = render.write_csv(csv_dir, tables)
        if html_out is not None:
            html_out.write_text(render.html_page(title, report, charts, tables), encoding="utf-8")
            payload["html"] = str(html_out)
    except OSError as exc:
        raise ConnectorError(f"cannot write the report: {exc.strerror}") from None
    lines = [title, *render.header_lines(report)]
    for _, table_title, headers, rows in tables:
        lines += ["", table_title, render.text_table(headers, rows)]
    return payload, lines


@cli.command()
@config_option
def run(config: Path | None) -> None:
    """Sync on a schedule until SIGTERM: every [sync] interval_minutes, a nightly sweep at [daemon] sweep_at,
    mappings reloaded on SIGHUP or a change; serves /healthz, /readyz, /metrics and a status page on [daemon]
    listen. Logs go to stdout (JSON lines unless on a terminal). One daemon leads a store: on PostgreSQL others
    stand by and take over, on SQLite a second one refuses to start (exit 1)."""
    import signal
    import tempfile

    from .operate.daemon import Daemon, sandboxed

    cfg = _load(config)
    configure_logging(cfg.logging.level, cfg.logging.format, stream=sys.stdout)
    _load_mappings(cfg)  # a bad mapping file stops the daemon before anything starts
    with tempfile.TemporaryDirectory(prefix="connector-run-") as work, sandboxed(cfg, Path(work)) as live:
        daemon = Daemon(live, _load_mappings(live))
        signal.signal(signal.SIGTERM, lambda *_: daemon.stop())
        signal.signal(signal.SIGINT, lambda *_: daemon.stop())
        signal.signal(signal.SIGHUP, lambda *_: daemon.reload())
        server = _serve_http(live, daemon)
        try:
            code = daemon.serve()
        finally:
            if server is not None:
                server.stop()
    raise _Exit(code)


def _serve_http(cfg: ConnectorConfig, daemon: Any) -> Any:
    """The daemon's HTTP endpoint on [daemon] listen (None when it is "")."""
    if not cfg.daemon.listen:
        return None
    import logging

    from .operate.metrics import budget_limits
    from .operate.web import build_app, start_server

    token = cfg.daemon.token.get_secret_value() if cfg.daemon.token else None
    app = build_app(daemon.engine, daemon.state, token=token, budgets=budget_limits(cfg))
    try:
        server = start_server(app, cfg.daemon.host, cfg.daemon.port)
    except OSError as exc:  # the port is taken, or the address is not this machine's
        raise ConfigError([ConfigProblem("config", "[daemon].listen", f"cannot listen on {cfg.daemon.listen}: "
                                         f"{exc.strerror or exc}", "choose a free port or another address "
                                         "(CONNECTOR_DAEMON_LISTEN), or \"\" for no HTTP server")]) from exc
    logging.getLogger("connector.daemon").info(
        "serving /healthz, /readyz, /metrics and the status page on http://%s:%d/%s", cfg.daemon.host, server.port,
        "" if token is None else " (token required for /metrics and /)")
    return server


@cli.command(name="issues")
@click.option("--field", "field_name", default=None, metavar="NAME",
              help="only this field (the unified name, e.g. lead_status, or either system's)")
@click.option("--kind", default=None, metavar="KIND", help="only what this transform refused (map, phone, owner, ...)")
@click.option("--csv", "csv_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="also write issues.csv into this directory")
@config_option
@json_option
def issues_command(field_name: str | None, kind: str | None, csv_dir: Path | None, config: Path | None,
                   as_json: bool) -> None:
    """The values the connector cannot carry (a picklist value with no counterpart and no default, an
    unparseable phone, an unknown owner, ...), left untouched on both sides: by field, person and value, each
    with its fix. As of each person's last reconciliation; reads the store only."""
    from .sync.review import value_issue_rows

    try:
        cfg = _load(config, store_only=True)
        from .store import open_engine

        rows = value_issue_rows(open_engine(cfg.store.url), field=field_name, kind=kind,
                                mapping_file=str(cfg.mappings.directory / "contacts.toml"))
    except ConnectorError as exc:
        _fail(exc, as_json)
    payload: dict[str, Any] = {"ok": True, "count": len(rows), "issues": rows}
    if csv_dir is not None:
        import csv

        csv_dir.mkdir(parents=True, exist_ok=True)
        path = csv_dir / "issues.csv"
        columns = ["person_id", "system", "record_id", "field", "unified_field", "kind", "value", "reason", "fix"]
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        payload["csv"] = str(path)

    def text() -> None:
        from rich.table import Table

        if not rows:
            click.echo("no values need attention")
            return
        table = Table("field", "person", "record", "value", "why", "fix",
                      title=f"{count(len(rows), 'value')} the connector cannot carry (left untouched)")
        for r in rows:
            table.add_row(r["unified_field"] or r["field"], r["person_id"], f"{r['system']} {r['record_id']}",
                          "" if r["value"] is None else str(r["value"]), r["reason"], r["fix"])
        console().print(table)

    _emit(payload, as_json, text)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with `argv` (default: sys.argv[1:]); returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args=args, prog_name="connector", standalone_mode=False)
    except _Exit as done:
        return done.code
    except click.exceptions.Exit as done:  # --help, --version
        return done.exit_code
    except click.UsageError as exc:  # a bad command line is bad configuration
        exc.show()
        return EXIT_CONFIG
    except click.Abort:
        click.echo("aborted", err=True)
        return EXIT_FAILURE
    except ConnectorError as exc:
        click.echo(f"error: {exc}", err=True)
        return exc.exit_code
    return EXIT_OK
