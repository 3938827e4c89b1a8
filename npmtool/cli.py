"""The ``npmtool`` command: Flask's CLI over the application factory, plus
the commands that set up and run a deployment."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from sqlalchemy import select

from npmtool import ConfigurationError, create_app
from npmtool.extensions import db
from npmtool.plugins import PluginError
from npmtool.cli_evidence import verify_evidence_command
from npmtool.cli_reports import annual_reports_command



def _app_factory() -> Flask:
    try:
        return create_app()
    except (ConfigurationError, PluginError) as exc:
        # A bad plugin or configuration stops start-up with a clear message.
        raise click.ClickException(str(exc)) from None


def instance_path() -> Path:
    configured = os.environ.get("NPMTOOL_INSTANCE_PATH")
    if configured:
        return Path(configured)
    return Path(Flask("npmtool", instance_relative_config=True).instance_path)


@click.group(cls=FlaskGroup, create_app=_app_factory, add_version_option=True, load_dotenv=False)
def main() -> None:
    """npmtool: preventive visits, recommendations and complaints for National Preventive Mechanisms."""


@main.command("init", with_appcontext=False)
@click.option("--no-registry", is_flag=True, help="Do not add the plugins' seed registry of facilities.")
def init_command(no_registry: bool) -> None:
    """Create the instance folder (secret key, database), migrate and load the plugins' data.

    Safe to run again: it keeps the secret key and the data, applies new
    migrations and reloads reference data from the plugins."""
    from npmtool.instance_config import ensure_secrets

    config_file = instance_path() / "config.py"
    added = ensure_secrets(config_file)
    if added:
        click.echo(f"Wrote {', '.join(added)} to {config_file}.")
    app = _app_factory()
    _migrate_and_sync(app, registry=not no_registry)


def _migrate_and_sync(app: Flask, registry: bool = True) -> None:
    from npmtool.database import upgrade_database
    from npmtool.services.reference import ServiceError, sync_reference_data

    upgrade_database(app)
    click.echo(f"Database is up to date: {_redact(app.config['DATABASE_URL'])}")
    with app.app_context():
        try:
            counts = sync_reference_data(db.session, app.extensions["npmtool"].catalogue, with_registry=registry)
        except ServiceError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo("Reference data loaded from plugins: " +
               ", ".join(f"{kind.replace('_', ' ')} {n}" for kind, n in sorted(counts.items())))


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


@click.command("sync-plugins")
@with_appcontext
def sync_plugins_command() -> None:
    """Apply migrations and reload reference data from the enabled plugins."""
    _migrate_and_sync(current_app._get_current_object())


@click.command("db-revision")
@click.argument("message")
@with_appcontext
def db_revision_command(message: str) -> None:
    """(Developers) autogenerate a migration from changed models."""
    from npmtool.database import make_revision

    make_revision(current_app._get_current_object(), message)


@click.command("plugins")
@with_appcontext
def plugins_command() -> None:
    """List each plugin, its version and what it contributes."""
    from npmtool.i18n import tr

    catalogue = current_app.extensions["npmtool"].catalogue
    for name, info in catalogue.plugins.items():
        c = catalogue.contributions(name)
        click.secho(f"{name} {info.version}", bold=True)
        if c["country"]:
            country = c["country"]
            click.echo(f"  country: {country['code']} {tr(country['names'], 'en')} — "
                       f"NPM: {tr(country['npm_body']['names'], 'en')}")
            click.echo(f"  languages: {', '.join(country['languages'])}; regions: {len(country['regions'])}; "
                       f"visit types: {', '.join(v['code'] for v in country['visit_types'])}")
        click.echo(f"  authorities: {len(c['authorities'])}")
        click.echo(f"  facility types: {len(c['facility_types'])}"
                   + (f" ({', '.join(t['code'] for t in c['facility_types'])})" if c["facility_types"] else ""))
        click.echo(f"  legal sources: {len(c['legal_sources'])}")
        for template in c["checklists"]:
            items = sum(len(s["items"]) for s in template["sections"])
            click.echo(f"  checklist {template['code']} v{template['version']}: {items} items — "
                       f"{tr(template['titles'], 'en')}")
        click.echo(f"  registry: {len(c['registry'])} facilities")
        if c["complaints"]:
            click.echo(f"  complaint categories: {len(c['complaints']['categories'])}; channels: "
                       f"{', '.join(ch['code'] for ch in c['complaints']['channels'])}")
        for fmt in c["report_formats"]:
            click.echo(f"  report format {fmt['code']} ({fmt['scope']}; {', '.join(fmt['outputs'])}; "
                       f"{', '.join(fmt['languages'])})")


def _actor():
    """The first administrator, for changes made from the command line."""
    from npmtool.models import User

    return db.session.scalar(select(User).where(User.role == "admin").order_by(User.id))


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "coordinator", "monitor", "council", "cso"]), required=True)
@click.option("--full-name", required=True)
@click.option("--email", default="")
@click.option("--country", "country_code", default=None, help="ISO code; omit for all countries.")
@click.option("--region", "regions", multiple=True, help="Region code (repeatable) to limit the scope.")
@click.option("--password", default=None, help="Omit to be asked for it.")
@with_appcontext
def create_user_command(username, role, full_name, email, country_code, regions, password) -> None:
    """Create an account."""
    from npmtool.models import Region
    from npmtool.services import ServiceError
    from npmtool.services.users import create_user

    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    region_ids = []
    for code in regions:
        region = db.session.scalar(select(Region).where(Region.code == code))
        if region is None:
            raise click.ClickException(f"Unknown region {code}.")
        region_ids.append(region.id)
    try:
        user = create_user(db.session, _actor(), username=username, full_name=full_name, role=role,
                           password=password, email=email, country_code=country_code, region_ids=region_ids)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {user.role} {user.username}.")


@click.command("set-password")
@click.argument("username")
@click.option("--password", default=None, help="Omit to be asked for it.")
@with_appcontext
def set_password_command(username: str, password: str | None) -> None:
    """Set a new password for an account."""
    from npmtool.models import User
    from npmtool.services import ServiceError
    from npmtool.services.users import set_password

    user = db.session.scalar(select(User).where(User.username == username.lower()))
    if user is None:
        raise click.ClickException(f"No account {username}.")
    if password is None:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    try:
        set_password(db.session, _actor(), user, password)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Password of {user.username} changed.")


@click.command("import-facilities")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "username", default=None, help="Account the import is recorded under (default: first admin).")
@click.option("--dry-run", is_flag=True, help="Check every row, import nothing.")
@with_appcontext
def import_facilities_command(path: Path, username: str | None, dry_run: bool) -> None:
    """Import facilities from a CSV or XLSX file: all rows or none."""
    from npmtool.models import User
    from npmtool.services.importing import ImportFileError, import_facilities, read_rows

    actor = db.session.scalar(select(User).where(User.username == username.lower())) if username else _actor()
    if actor is None:
        raise click.ClickException("No account to record the import under: create an administrator first.")
    data = path.read_bytes()
    try:
        total = len(read_rows(path.name, data, current_app.config["IMPORT_MAX_ROWS"]))
        with click.progressbar(length=total, label=f"Checking {total} rows", file=sys.stderr) as bar:
            report = import_facilities(db.session, actor, path.name, data, dry_run=dry_run,
                                       max_rows=current_app.config["IMPORT_MAX_ROWS"], progress=bar.update)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from None
    if not report.ok:
        for error in report.errors:
            click.echo(f"row {error.row}, {error.column}: {error.message}", err=True)
        raise click.ClickException(f"{len(report.errors)} problem(s) in {path.name}; nothing was imported.")
    verb = "Would import" if dry_run else "Imported"
    click.echo(f"{verb} {report.rows} rows: {report.created} new facilities, {report.updated} updated.")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load a realistic demo: accounts for every role, figures and visits.

    Runs once: if accounts exist already, it leaves everything as it is.
    The passwords are printed this one time only."""
    from npmtool.services.demo import load_demo

    result = load_demo(db.session)
    if result is None:
        click.echo("Demo data already present; nothing changed. "
                   "(Reset a password with `npmtool set-password USER`.)")
        return
    click.secho("Demo accounts — the passwords are shown only now:", bold=True)
    for username, role, password in result.accounts:
        click.echo(f"  {username:<14} {role:<12} {password}")
    click.echo(f"Demo: {result.figures} facility figures, {result.visits} visits with {result.answers} answers, "
               f"{result.interviews} interviews, {result.recommendations} recommendations, "
               f"{result.complaints} complaints.")


@click.command("rotate-key")
@with_appcontext
def rotate_key_command() -> None:
    """Seal every confidential value (interviews, complaints) under a new data key.

    The new key is written first (beside the old one), the data re-sealed,
    and only then is the old key removed from instance/config.py."""
    from npmtool.crypto import Sealer, new_data_key
    from npmtool.instance_config import write_data_keys
    from npmtool.services.resealing import reseal_all

    config_file = Path(current_app.instance_path) / "config.py"
    old_keys = list(current_app.config["DATA_ENCRYPTION_KEYS"])
    keys = [new_data_key(), *old_keys]
    write_data_keys(config_file, keys)
    counts = reseal_all(db.session, Sealer(keys))
    write_data_keys(config_file, keys[:1])
    current_app.config["DATA_ENCRYPTION_KEYS"] = keys[:1]
    summary = ", ".join(f"{table} {count}" for table, count in counts.items())
    click.echo(f"Re-sealed under a new key ({summary}); the old key was removed from {config_file}.")


APP_COMMANDS = (sync_plugins_command, db_revision_command, plugins_command, create_user_command,
                set_password_command, import_facilities_command, demo_command, rotate_key_command,
                verify_evidence_command, annual_reports_command)


def register_commands(app: Flask) -> None:
    """Commands that work on a configured app: `npmtool --help` lists them
    beside `init` and Flask's own `run`, and tests reach them through app.cli."""
    for command in APP_COMMANDS:
        app.cli.add_command(command)
