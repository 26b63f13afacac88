"""The website: pages and data generated from the catalog and the experiment results at build time."""

from .generate import build_site, esc, generate_files, load_results

__all__ = ["build_site", "esc", "generate_files", "load_results"]
