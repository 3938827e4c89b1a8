"""Distances (geopy) and optional geocoding that degrades without network."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

import logging
import math
from dataclasses import dataclass

from geopy.distance import geodesic
from geopy.exc import GeopyError

from npmtool.services import ServiceError

log = logging.getLogger(__name__)

EARTH_KM_PER_DEGREE = 111.32


class CoordinateError(ServiceError):
    """Coordinates that cannot be a place on Earth, or half of a pair."""


def check_coordinates(lat: float | None, lon: float | None) -> None:
    """Both or neither, and on Earth."""
    if (lat is None) != (lon is None):
        raise CoordinateError(_l("Give both latitude and longitude, or neither."))
    if lat is None:
        return
    if not -90 <= lat <= 90:
        raise CoordinateError(_l("Latitude must be between -90 and 90."))
    if not -180 <= lon <= 180:
        raise CoordinateError(_l("Longitude must be between -180 and 180."))


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return geodesic(a, b).kilometers


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """A lat/lon box containing the circle, so SQL can pre-filter with an index
    before geopy measures the exact distance."""
    dlat = radius_km / EARTH_KM_PER_DEGREE
    dlon = radius_km / max(EARTH_KM_PER_DEGREE * math.cos(math.radians(lat)), 1e-6)
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


@dataclass
class GeocodeResult:
    ok: bool
    lat: float | None = None
    lon: float | None = None
    message: str = ""


def geocode(address: str, provider: str | None, user_agent: str, timeout: float) -> GeocodeResult:
    """Look an address up; never raises. Without a provider, or without
    network, the answer says so and the user types coordinates instead."""
    if not provider:
        return GeocodeResult(False, message="disabled")
    try:
        from geopy.geocoders import get_geocoder_for_service

        geocoder = get_geocoder_for_service(provider)(user_agent=user_agent, timeout=timeout)
        location = geocoder.geocode(address)
    except (GeopyError, OSError) as exc:
        log.info("geocoding unavailable: %s", exc)
        return GeocodeResult(False, message="unavailable")
    if location is None:
        return GeocodeResult(False, message="not_found")
    return GeocodeResult(True, location.latitude, location.longitude)
