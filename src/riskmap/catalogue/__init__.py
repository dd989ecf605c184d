"""The controls catalogue: principles, unit types, risks, controls and the scoring method."""

from riskmap.catalogue.loader import (
    Catalogue,
    CatalogueError,
    CatalogueIssue,
    default_directory,
    load_catalogue,
    version_notice,
)

__all__ = [
    "Catalogue",
    "CatalogueError",
    "CatalogueIssue",
    "default_directory",
    "load_catalogue",
    "version_notice",
]
