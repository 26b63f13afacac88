"""The catalog's record of one paper (pydantic v2, unknown fields are errors)."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FIRST_YEAR = 1990


def last_year() -> int:
    """Papers may be dated up to next year (camera-ready dates run ahead)."""
    return _dt.date.today().year + 1


KEY_RE = re.compile(r"^[a-z][a-z0-9_]*[0-9]{4}[a-z0-9_]*$")
ARXIV_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]*$|^https?://[^\s/$.?#][^\s]*/[^\s]*$")

Annotation = Literal["paper-text", "code", "abstract", "curated-list"]

#: order of fields in a saved file (and in the DataFrame)
FIELD_ORDER = (
    "key", "title", "authors", "year", "venue", "arxiv", "doi", "url", "code",
    "setting", "domains", "architecture", "losses", "datasets", "summary", "provenance",
)
#: fields that hold taxonomy ids
ID_LIST_FIELDS = ("domains", "architecture", "losses", "datasets")


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not URL_RE.match(value) or any(c in value for c in "<>\"' "):
        raise ValueError(f"malformed URL {value!r}: expected an http:// or https:// address such as 'https://github.com/owner/repo'")
    return value


class Provenance(BaseModel):
    """Where each fact was checked, and how the method facets were annotated."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(min_length=1, description="URLs where title, authors, year and venue were checked")
    annotation: list[Annotation] = Field(min_length=1, description="what the facets were read from")
    checked: _dt.date | None = Field(default=None, description="when the facts were last checked")
    notes: str = ""

    @field_validator("sources")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        for s in v:
            _check_url(s)
        return v


class Paper(BaseModel):
    """One surveyed paper."""

    model_config = ConfigDict(extra="forbid")

    key: str = Field(description="bibtex-style key: first author, year, first title word, e.g. godard2017unsupervised")
    title: str = Field(min_length=1)
    authors: list[str] = Field(description="full author list in order, 'First Last'")
    year: int
    venue: str = Field(min_length=1, description="short venue, e.g. 'CVPR 2017' or 'arXiv'")
    arxiv: str | None = None
    doi: str | None = None
    url: str | None = None
    code: str | None = None
    setting: str
    domains: list[str] = Field(min_length=1)
    architecture: list[str] = Field(default_factory=list)
    losses: list[str] = Field(min_length=1)
    datasets: list[str] = Field(default_factory=list)
    summary: str = Field(min_length=1)
    provenance: Provenance

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not KEY_RE.match(v):
            raise ValueError(
                f"malformed key {v!r}: use lower-case letters, digits and '_', with the year, e.g. 'godard2017unsupervised'"
            )
        return v

    @field_validator("authors")
    @classmethod
    def _authors(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("the author list is empty: give every author in order, e.g. ['Clement Godard', 'Oisin Mac Aodha']")
        for a in v:
            if not a.strip():
                raise ValueError("an author name is empty")
        return v

    @field_validator("year")
    @classmethod
    def _year(cls, v: int) -> int:
        if not FIRST_YEAR <= v <= last_year():
            raise ValueError(f"year {v} is outside {FIRST_YEAR}..{last_year()}")
        return v

    @field_validator("arxiv")
    @classmethod
    def _arxiv(cls, v: str | None) -> str | None:
        if v is not None and not ARXIV_RE.match(v):
            raise ValueError(
                f"malformed arXiv id {v!r}: expected e.g. '1609.03677' or '2106.12345' (no 'arXiv:' prefix, no version)"
            )
        return v

    @field_validator("doi")
    @classmethod
    def _doi(cls, v: str | None) -> str | None:
        if v is not None and not DOI_RE.match(v):
            raise ValueError(f"malformed DOI {v!r}: expected e.g. '10.1109/CVPR.2017.699' (no 'https://doi.org/' prefix)")
        return v

    @field_validator("url", "code")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return _check_url(v)

    @model_validator(mode="after")
    def _identifier(self) -> "Paper":
        if not (self.arxiv or self.doi or self.url):
            raise ValueError("give at least one of arxiv, doi or url so that the paper can be checked")
        return self

    def ordered(self) -> dict:
        """The paper as a plain dict in canonical field order, empty optionals left out."""
        data = self.model_dump(mode="json")
        out: dict = {}
        for name in FIELD_ORDER:
            value = data[name]
            if value is None or value == [] or value == "":
                continue
            if name == "provenance":
                value = {k: v for k, v in value.items() if v not in (None, "", [])}
            out[name] = value
        return out


def json_schema() -> dict:
    """JSON Schema of a paper file (editors: `# yaml-language-server: $schema=../paper.schema.json`)."""
    schema = Paper.model_json_schema()
    schema["title"] = "sins catalog paper"
    return schema
