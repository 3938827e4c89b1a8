"""Reading a plugin's data files.

Country knowledge lives in data files shipped inside the plugin package
(YAML for structured data, CSV for registries), not in Python literals, so
that people who know the law can review and correct it without reading code.
"""

from __future__ import annotations

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
