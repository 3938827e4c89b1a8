"""Configuration layers, `npmtool init`, the demo and the plugin listing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from npmtool import ConfigurationError, create_app
from npmtool.cli import main
from npmtool.extensions import db
from npmtool.models import Facility, User, Visit
from npmtool.services.users import authenticate
from tests.conftest import DATA_KEY, SIGNING_KEY


def test_configuration_layers(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text("SECRET_KEY = 'from-file'\nPAGE_SIZE = 10\nGEOCODER = 'nominatim'\n"
                                        f"DATA_ENCRYPTION_KEYS = {[DATA_KEY]!r}\nEVIDENCE_SIGNING_KEY = {SIGNING_KEY!r}\n")
    monkeypatch.setenv("NPMTOOL_PAGE_SIZE", "40")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/x.sqlite"}, instance_path=str(instance))
    assert app.config["SECRET_KEY"] == "from-file"       # instance file over defaults
    assert app.config["PAGE_SIZE"] == 40                  # environment over the file, parsed as JSON
    assert app.config["GEOCODER"] == "nominatim"
    assert app.config["LOGIN_MAX_FAILURES"] == 5          # default


def test_no_secret_key_stops_start_up(tmp_path, monkeypatch):
    monkeypatch.delenv("NPMTOOL_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError) as error:
        create_app(instance_path=str(tmp_path / "empty"))
    assert "npmtool init" in str(error.value)


@pytest.fixture
def fresh_instance(tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("NPMTOOL_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("NPMTOOL_DATABASE_URL", database_url)
    return tmp_path / "instance"


def test_init_twice_keeps_secret_key_and_data(fresh_instance):
    runner = CliRunner()
    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    config_text = (fresh_instance / "config.py").read_text()
    key = re.search(r"SECRET_KEY = '([0-9a-f]+)'", config_text).group(1)
    assert len(key) == 64
    assert oct((fresh_instance / "config.py").stat().st_mode)[-3:] == "600"

    demo = runner.invoke(main, ["demo"])
    assert demo.exit_code == 0, demo.output
    passwords = re.findall(r"^\s+(\S+)\s+(admin|coordinator|monitor|council|cso)\s+(\S+)$", demo.output, re.M)
    assert {role for _, role, _ in passwords} == {"admin", "coordinator", "monitor", "council", "cso"}

    again = runner.invoke(main, ["init"])
    assert again.exit_code == 0, again.output
    assert key in (fresh_instance / "config.py").read_text()
    second_demo = runner.invoke(main, ["demo"])
    assert "already present" in second_demo.output
    assert passwords[0][2] not in second_demo.output  # printed once only

    app = create_app()
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == len(passwords)
        assert db.session.scalar(select(func.count()).select_from(Visit)) >= 3
        # the printed demo passwords work
        username, _, password = passwords[0]
        result = authenticate(db.session, username, password, "127.0.0.1", max_failures=5,
                              window=timedelta(minutes=15))
        assert result.user is not None and result.user.username == username
        db.session.remove()
        db.engine.dispose()


def test_two_instances_get_different_keys(tmp_path, monkeypatch, database_url):
    keys = []
    for name in ("a", "b"):
        monkeypatch.setenv("NPMTOOL_INSTANCE_PATH", str(tmp_path / name))
        monkeypatch.setenv("NPMTOOL_DATABASE_URL", database_url)
        assert CliRunner().invoke(main, ["init", "--no-registry"]).exit_code == 0
        keys.append((tmp_path / name / "config.py").read_text())
    assert keys[0] != keys[1]


def test_plugins_command_lists_every_plugin_and_its_contributions(runner):
    result = runner.invoke(args=["plugins"])
    assert result.exit_code == 0
    for name in ("international", "kazakhstan", "kyrgyzstan", "uzbekistan"):
        assert re.search(rf"^{name} \S+$", result.output, re.M), name
    assert re.search(r"checklist INT-CORE v\S+: \d+ items", result.output)
    assert "country: KZ Kazakhstan" in result.output
    assert "report format" in result.output and "facility types:" in result.output


def test_create_user_command(runner, session):
    result = runner.invoke(args=["create-user", "Dana", "--role", "coordinator", "--full-name", "Dana N",
                                 "--country", "KG", "--password", "long enough password"])
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.username == "dana"))
    assert user.role == "coordinator" and user.country_code == "KG"
    result = runner.invoke(args=["create-user", "dana", "--role", "monitor", "--full-name", "Again",
                                 "--password", "long enough password"])
    assert result.exit_code == 1 and "is taken" in result.output


def test_reference_data_sync_is_idempotent(app, session):
    from npmtool.services.reference import sync_reference_data

    before = session.scalar(select(func.count()).select_from(Facility))
    counts = sync_reference_data(session, app.extensions["npmtool"].catalogue)
    assert counts["facilities_added"] == 0 and counts["checklists_added"] == 0
    assert session.scalar(select(func.count()).select_from(Facility)) == before


def test_changed_checklist_without_new_version_is_refused(app, session):
    import copy

    from npmtool.services.reference import ChecklistChanged, snapshot_checklist

    template = copy.deepcopy(app.extensions["npmtool"].catalogue.checklists["INT-CORE"])
    template["sections"][0]["items"][0]["question"]["en"] = "A quietly changed question?"
    with pytest.raises(ChecklistChanged) as error:
        snapshot_checklist(session, template)
    assert "give it a new version" in str(error.value)
    template["version"] = template["version"] + "-b"
    assert snapshot_checklist(session, template) is True
