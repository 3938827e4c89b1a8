"""A fourth country needs no core change: a minimal plugin package is
installed from a temporary directory and the core picks it up."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select

from npmtool.extensions import db
from npmtool.models import Country, Facility, FacilityType
from npmtool.services.reference import sync_reference_data

FILES = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=68"]
        build-backend = "setuptools.build_meta"
    """,
    "setup.cfg": """
        [metadata]
        name = npmtool-tajikistan-test
        version = 0.0.1

        [options]
        packages = npmtool_tajikistan_test
        include_package_data = True

        [options.package_data]
        npmtool_tajikistan_test = data/*.yaml

        [options.entry_points]
        npmtool =
            tajikistan = npmtool_tajikistan_test
    """,
    "npmtool_tajikistan_test/__init__.py": """
        from npmtool.hookspecs import hookimpl
        from npmtool.plugin_data import PluginData

        DATA = PluginData(__name__)


        @hookimpl
        def npmtool_country():
            return DATA.yaml("country.yaml")


        @hookimpl
        def npmtool_authorities():
            return DATA.yaml("authorities.yaml")


        @hookimpl
        def npmtool_facility_types():
            return DATA.yaml("facility_types.yaml")


        @hookimpl
        def npmtool_facility_registry():
            return DATA.yaml("registry.yaml")
    """,
    "npmtool_tajikistan_test/data/country.yaml": """
        code: TJ
        names: {ru: Таджикистан, en: Tajikistan, kk: Тәжікстан}
        npm_body:
          names: {ru: Уполномоченный по правам человека, en: Commissioner for Human Rights}
        languages: [ru]
        regions:
          - {code: TJ-DU, names: {ru: Душанбе, en: Dushanbe}, kind: city}
          - {code: TJ-SU, names: {ru: Согдийская область, en: Sughd}}
        visit_types:
          - {code: regular, names: {ru: Плановый, en: Regular}}
    """,
    "npmtool_tajikistan_test/data/authorities.yaml": """
        - {code: TJ-MOJ, names: {ru: Министерство юстиции, en: Ministry of Justice}}
    """,
    "npmtool_tajikistan_test/data/facility_types.yaml": """
        - code: TJ-SIZO
          names: {ru: Следственный изолятор, en: Pre-trial detention centre}
          category: pretrial
          authority: TJ-MOJ
          norms: {min_m2_per_person: 4}
    """,
    "npmtool_tajikistan_test/data/registry.yaml": """
        - code: TJ-SIZO-1
          name: {ru: СИЗО № 1 Душанбе, en: "Pre-trial centre No. 1, Dushanbe"}
          type: TJ-SIZO
          region: TJ-DU
          lat: 38.5598
          lon: 68.7870
    """,
}


@pytest.fixture
def installed_plugin(tmp_path):
    source = tmp_path / "src"
    for name, text in FILES.items():
        path = source / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    yield target
    sys.path.remove(str(target))
    sys.modules.pop("npmtool_tajikistan_test", None)
    importlib.invalidate_caches()


def test_core_picks_up_a_new_country_plugin(installed_plugin, make_app, make_user):
    app = make_app()
    host = app.extensions["npmtool"]
    assert "tajikistan" in host.info and host.info["tajikistan"].version == "0.0.1"
    assert host.catalogue.countries["TJ"]["plugin"] == "tajikistan"

    with app.app_context():
        sync_reference_data(db.session, host.catalogue)
        assert db.session.get(Country, "TJ").names["en"] == "Tajikistan"
        sizo = db.session.scalar(select(FacilityType).where(FacilityType.code == "TJ-SIZO"))
        assert sizo.norms == {"min_m2_per_person": 4}
        facility = db.session.scalar(select(Facility).where(Facility.code == "TJ-SIZO-1"))
        assert facility.country_code == "TJ" and facility.facility_type_id == sizo.id

        result = app.test_cli_runner().invoke(args=["plugins"])
        assert "tajikistan 0.0.1" in result.output
        assert "country: TJ Tajikistan" in result.output and "facility types: 1 (TJ-SIZO)" in result.output

        admin = make_user("admin")
        client = app.test_client()
        client.post("/login", data={"username": admin.username, "password": "correct horse battery"})
        form = client.get("/facilities/new").data.decode()
        assert re.search(r'<optgroup label="Tajikistan">\s*<option value="\d+">Pre-trial detention centre</option>', form)
        listing = client.get("/facilities/?country=TJ").data.decode()
        assert "Pre-trial centre No. 1, Dushanbe" in listing


def test_a_plugin_that_cannot_be_imported_stops_start_up(tmp_path, make_app):
    source = tmp_path / "broken"
    (source / "npmtool_broken_test").mkdir(parents=True)
    (source / "pyproject.toml").write_text(FILES["pyproject.toml"].replace("        ", ""))
    (source / "setup.cfg").write_text(textwrap.dedent("""
        [metadata]
        name = npmtool-broken-test
        version = 0.0.1
        [options]
        packages = npmtool_broken_test
        [options.entry_points]
        npmtool =
            broken = npmtool_broken_test
    """))
    (source / "npmtool_broken_test" / "__init__.py").write_text("import a_module_that_does_not_exist\n")
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True)
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    try:
        from npmtool.plugins import PluginError

        with pytest.raises(PluginError) as error:
            make_app()
        assert "plugin 'broken': cannot be imported: ModuleNotFoundError" in str(error.value)
    finally:
        sys.path.remove(str(target))
        importlib.invalidate_caches()
