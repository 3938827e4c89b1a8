"""Reading a plugin's data files.

Country knowledge lives in data files shipped inside the plugin package
(YAML for structured data, CSV for registries), not in Python literals, so
that people who know the law can review and correct it without reading code.
"""

from __future__ import annotations

import copy
import csv
import io
from importlib import resources
from typing import Any

import yaml


class PluginData:
    """Files of the ``data/`` folder of a plugin package.

    >>> data = PluginData("npmtool_kazakhstan")
    >>> data.yaml("country.yaml")["code"]
    'KZ'
    """

    def __init__(self, package: str, folder: str = "data") -> None:
        self.package = package
        self.folder = folder

    def _text(self, name: str) -> str:
        return resources.files(self.package).joinpath(self.folder, name).read_text(encoding="utf-8")

    def yaml(self, name: str) -> Any:
        return yaml.safe_load(self._text(name))

    def csv_rows(self, name: str) -> list[dict[str, str]]:
        return list(csv.DictReader(io.StringIO(self._text(name))))

    def names(self, suffix: str = "") -> list[str]:
        """File names in the data folder (or a sub-folder), sorted."""
        folder = resources.files(self.package).joinpath(self.folder)
        for part in [p for p in suffix.split("/") if p]:
            folder = folder.joinpath(part)
        return sorted(entry.name for entry in folder.iterdir() if entry.is_file())


# Standard data files and the hook each one answers.
STANDARD_FILES = {
    "npmtool_authorities": "authorities.yaml",
    "npmtool_facility_types": "facility_types.yaml",
    "npmtool_legal_sources": "legal_sources.yaml",
    "npmtool_facility_registry": "registry.yaml",
    "npmtool_complaint_categories": "complaints.yaml",
    "npmtool_report_formats": "reports.yaml",
}


def standard_hooks(data: PluginData) -> dict[str, Any]:
    """Hook implementations that return a plugin's standard data files as
    they are, for the files its ``data/`` folder has: ``country.yaml``
    (with ``settings["npm_body"]`` replacing the NPM body, since a law may
    move the mandate), ``checklists/*.yaml`` and those of ``STANDARD_FILES``.

    A country plugin adds them to its module and writes only its own logic::

        DATA = PluginData(__name__)
        globals().update(standard_hooks(DATA))
    """
    from npmtool.hookspecs import hookimpl

    present = set(data.names())
    hooks: dict[str, Any] = {}

    def reader(name: str):
        return lambda: data.yaml(name)

    for hook_name, file_name in STANDARD_FILES.items():
        if file_name in present:
            hooks[hook_name] = hookimpl(reader(file_name))
    if "country.yaml" in present:
        def npmtool_country(settings: dict[str, Any]) -> dict[str, Any]:
            country = data.yaml("country.yaml")
            if settings.get("npm_body"):
                country["npm_body"] = copy.deepcopy(settings["npm_body"])  # the deployment keeps its own
            return country

        hooks["npmtool_country"] = hookimpl(npmtool_country)
    try:
        checklist_files = data.names("checklists")
    except (FileNotFoundError, NotADirectoryError):
        checklist_files = []
    if checklist_files:
        hooks["npmtool_checklists"] = hookimpl(lambda: [data.yaml("checklists/" + n) for n in checklist_files])
    return hooks
