"""The survey catalog: schema, store, queries, BibTeX, statistics."""

from .errors import CatalogError, Problem, UnknownIdError
from .query import filter_papers, papers_frame, parse_years
from .schema import Paper, Provenance
from .store import Catalog, check_catalog, dump_paper, load_catalog, save_catalog, save_paper
from .taxonomy import Taxonomy, Term

__all__ = [
    "Catalog", "CatalogError", "Paper", "Problem", "Provenance", "Taxonomy", "Term", "UnknownIdError",
    "check_catalog", "dump_paper", "filter_papers", "load_catalog", "papers_frame", "parse_years",
    "save_catalog", "save_paper",
]
