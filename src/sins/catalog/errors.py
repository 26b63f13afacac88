"""Problems found in catalog files, reported as ``path:line: field: message``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from rapidfuzz import fuzz, process


#: the longest message a problem prints (a safety net; quoted values are cut much shorter)
MAX_MESSAGE = 2000


def shorten(text: object, limit: int = 120) -> str:
    """A value quoted in a message, cut to a readable length (the rest counted, never printed)."""
    text = str(text)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit:,} more characters)"


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in one file; ``line`` is 1-based (0 when unknown)."""

    path: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        msg = shorten(self.message, MAX_MESSAGE)
        return f"{where}: {shorten(self.field, 80)}: {msg}" if self.field else f"{where}: {msg}"


class CatalogError(Exception):
    """Raised with every problem of a catalog, not just the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems)
        n = len(self.problems)
        lines = "\n".join(str(p) for p in self.problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the catalog:\n{lines}")


class UnknownIdError(ValueError):
    """An id that the taxonomy does not define (used by queries and the CLI)."""

    def __init__(self, kind: str, value: str, choices: Iterable[str]):
        self.kind, self.value = kind, value
        self.suggestions = suggest(value, choices)
        super().__init__(unknown_id_message(kind, value, choices))


def suggest(value: str, choices: Iterable[str], limit: int = 3) -> list[str]:
    """The closest valid ids to ``value`` (best first)."""
    choices = list(choices)
    if not choices:
        return []
    found = process.extract(value, choices, scorer=fuzz.WRatio, limit=limit, score_cutoff=50)
    return [c for c, _score, _i in found]


def unknown_id_message(kind: str, value: str, choices: Iterable[str]) -> str:
    choices = sorted(choices)
    value = str(value)
    close = suggest(value[:200], choices)
    msg = f"unknown {kind} {shorten(repr(value))}"
    if close:
        msg += " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
    else:
        msg += f" (valid: {', '.join(choices)})"
    return msg
