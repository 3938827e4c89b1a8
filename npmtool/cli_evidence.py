"""`npmtool verify-evidence VISIT`: check a visit's evidence files and its
signed manifest. Exit status 0 when all is well, 1 when a problem was found."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from npmtool.extensions import db


@click.command("verify-evidence")
@click.argument("visit_id", metavar="VISIT", type=int)
@click.option("--no-record", is_flag=True, help="Do not add a 'verified' entry to the chain of custody.")
@with_appcontext
def verify_evidence_command(visit_id: int, no_record: bool) -> None:
    """Check that every original of visit VISIT is present and hashes to its
    name, and that the visit's manifest is signed by this instance's key and
    lists exactly the files in the database."""
    from npmtool.models import Visit
    from npmtool.services.evidence import verify_visit_evidence

    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise click.ClickException(f"No visit {visit_id}.")
    report = verify_visit_evidence(db.session, visit, record=not no_record)
    for problem in report.problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if not report.ok:
        click.echo(f"Visit {visit.id}: {len(report.problems)} problem(s) in {report.files_checked} file(s).", err=True)
        raise SystemExit(1)
    click.echo(f"Visit {visit.id}: {report.files_checked} file(s) intact; the signed manifest lists "
               f"{report.manifest_files} reference(s), exactly those in the database. All good.")
