"""The built-in ``international`` plugin: standards that apply in every country.

It answers for no country (no ``npmtool_country``) and contributes only data
that every country plugin can build on:

* legal sources: the UN Convention against Torture, OPCAT, and the UN standards
  on detention (Nelson Mandela, Bangkok, Tokyo and Havana Rules, Body of
  Principles), with the articles and rules the checklists cite;
* checklists: ``INT-CORE`` for every place of detention, ``INT-WOMEN`` (Bangkok
  Rules) where women are held and ``INT-JUV`` (Havana Rules) where children are
  held.

The data lives in ``data/`` as YAML so that people who know the standards can
review it without reading code; this module only hands it to the core.
"""

from __future__ import annotations

from typing import Any

from npmtool.hookspecs import hookimpl
from npmtool.plugin_data import PluginData

DATA = PluginData(__name__)


@hookimpl
def npmtool_legal_sources() -> list[dict[str, Any]]:
    return DATA.yaml("legal_sources.yaml")


@hookimpl
def npmtool_checklists() -> list[dict[str, Any]]:
    return [DATA.yaml("checklists/" + name) for name in DATA.names("checklists") if name.endswith(".yaml")]
