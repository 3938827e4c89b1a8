"""WeasyPrint, imported in one place.

Importing WeasyPrint sets Pillow's process-wide ``LOAD_TRUNCATED_IMAGES`` to
True. Left so, every photo uploaded afterwards in the same worker would be
decoded leniently and a truncated file accepted as evidence. The strict
default is restored at once; our PDFs only embed publication copies that
were fully decoded already."""

from __future__ import annotations

from types import ModuleType


def weasyprint() -> ModuleType:
    from PIL import ImageFile

    import weasyprint as module

    ImageFile.LOAD_TRUNCATED_IMAGES = False
    return module
