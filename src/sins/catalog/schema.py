"""The catalog's record of one paper (pydantic v2, unknown fields are errors)."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Literal

from .errors import shorten
from .results import ResultRow
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FIRST_YEAR = 1990


def last_year() -> int:
    """Papers may be dated up to next year (camera-ready dates run ahead)."""
    return _dt.date.today().year + 1


KEY_RE = re.compile(r"^[a-z][a-z0-9_]*[0-9]{4}[a-z0-9_]*$")
ARXIV_RE = re.compile(r"^(\d{4}\.\d{4,5}|[a-z\-]+(\.[A-Z]{2})?/\d{7})$")
DOI_RE = re.compile(r"^10\.\d{4,9}/\S+$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*\.[^\s]*$|^https?://[^\s/$.?#][^\s]*/[^\s]*$")

#: how a loss tag was established, strongest first
EVIDENCE_LEVELS = ("code", "paper", "abstract")
EvidenceLevel = Literal["code", "paper", "abstract"]
EVIDENCE_HELP = (
    "code (the official training code's loss assembly: give the file URLs in evidence.code), "
    "paper (the paper's method text: give the section or equation in evidence.paper) or "
    "abstract (give the abstract's URL in evidence.abstract)"
)
#: words one of which every evidence.paper entry must contain: it says *where* in the text
PAPER_PLACE_RE = re.compile(r"§|\b(sec(tion)?|eq(uation)?s?|table|tab|fig(ure)?|alg(orithm)?|appendix|supp(lementary)?|page|p\.|pp\.)", re.I)
#: the longest text value a catalog field may hold (titles, summaries and notes are far shorter)
MAX_TEXT = 4000

#: order of fields in a saved file (and in the DataFrame)
FIELD_ORDER = (
    "key", "title", "authors", "year", "venue", "arxiv", "doi", "url", "code",
    "supervision", "input", "domains", "architecture", "losses", "evidence", "datasets", "results", "summary", "provenance",
)
#: fields that hold lists of taxonomy ids
ID_LIST_FIELDS = ("domains", "architecture", "datasets")
#: fields that hold one taxonomy id
ID_FIELDS = ("supervision", "input")


def _check_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not URL_RE.match(value) or any(c in value for c in "<>\"' "):
        raise ValueError(f"malformed URL {value!r}: expected an http:// or https:// address such as 'https://github.com/owner/repo'")
    return value


def repo_of(url: str) -> str:
    """'https://github.com/Owner/Repo/blob/main/x.py#L3' -> 'github.com/owner/repo' (host and first two path parts)."""
    m = re.match(r"^https?://(?:www\.)?([^/\s]+)/([^/\s#?]+)/([^/\s#?]+)", url)
    if not m:
        return url.lower().rstrip("/")
    host, owner, name = m.groups()
    return f"{host}/{owner}/{name.removesuffix('.git')}".lower()


class Evidence(BaseModel):
    """Where the loss tags were read: each tag in ``losses`` names one of these three."""

    model_config = ConfigDict(extra="forbid")

    code: list[str] = Field(default_factory=list, description="URLs of files in the official repository where the training "
                            "loss is assembled (the function that sums the terms, its defaults, the training flags); "
                            "a line anchor (#L120) is welcome")
    paper: list[str] = Field(default_factory=list, description="places in the paper's text that state the terms, "
                             "e.g. 'Sec. 3.2, Eq. 4 (arXiv v2)'")
    abstract: str | None = Field(default=None, description="URL of the abstract that was read")
    notes: str = Field("", max_length=MAX_TEXT, description="what was read and how a term was decided")
    unread: str = Field("", max_length=MAX_TEXT, description="why no loss term could be established yet "
                        "(required when losses is empty): what was looked for and where")

    @field_validator("code")
    @classmethod
    def _code_urls(cls, v: list[str]) -> list[str]:
        for u in v:
            _check_url(u)
        return v

    @field_validator("abstract")
    @classmethod
    def _abstract_url(cls, v: str | None) -> str | None:
        return _check_url(v)

    @field_validator("paper")
    @classmethod
    def _places(cls, v: list[str]) -> list[str]:
        for place in v:
            if not PAPER_PLACE_RE.search(place):
                raise ValueError(f"{place!r} does not say where in the paper: name the section, equation, table or page, "
                                 "e.g. 'Sec. 3.2, Eq. 4'")
        return v


class Provenance(BaseModel):
    """Where each bibliographic fact was checked."""

    model_config = ConfigDict(extra="forbid")

    sources: list[str] = Field(min_length=1, description="URLs where title, authors, year and venue were checked")
    added: _dt.date | None = Field(default=None, description="when the paper entered the survey (the site's 'new since' page)")
    checked: _dt.date | None = Field(default=None, description="when the facts were last checked")
    notes: str = Field("", max_length=MAX_TEXT)

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
    supervision: str = Field(description="what supervises training: a supervision id of the taxonomy")
    input: str = Field(description="what the network takes at test time: an inputs id of the taxonomy")
    domains: list[str] = Field(min_length=1)
    architecture: list[str] = Field(default_factory=list)
    losses: dict[str, EvidenceLevel] = Field(default_factory=dict, description="loss term id -> how it was established: "
                                             "code, paper or abstract; empty only with evidence.unread saying why")
    evidence: Evidence = Field(default_factory=Evidence)
    datasets: list[str] = Field(default_factory=list)
    results: list[ResultRow] = Field(default_factory=list, description="benchmark results as reported, with protocol and source")
    summary: str = Field(min_length=1, max_length=MAX_TEXT)
    provenance: Provenance

    @field_validator("losses", mode="before")
    @classmethod
    def _mapping(cls, v: Any) -> Any:
        if isinstance(v, list):
            raise ValueError("losses is a mapping from each loss term to its evidence, e.g. "
                             "{ssim: code, l1: code, semantic: paper}; the evidence is " + EVIDENCE_HELP)
        return v

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

    def evidence_problems(self) -> list[tuple[tuple, str]]:
        """(field path, message) for each loss tag whose evidence is not recorded where its level says."""
        out: list[tuple[tuple, str]] = []
        ev = self.evidence
        if not self.losses and not ev.unread.strip():
            out.append((("losses",), "no loss term: tag at least one with its evidence, or say in evidence.unread why none "
                        "could be read yet"))
        if self.losses and ev.unread.strip():
            out.append((("evidence", "unread"), "evidence.unread is for papers without any loss tag: remove it"))
        need = {
            "code": (bool(ev.code), "evidence.code lists no file of the official code"),
            "paper": (bool(ev.paper), "evidence.paper names no section or equation"),
            "abstract": (bool(ev.abstract), "evidence.abstract gives no URL of the abstract"),
        }
        for tag, level in self.losses.items():
            ok, why = need[level]
            if not ok:
                out.append((("losses", tag), f"tagged {level!r} but {why}"))
        if ev.code:
            if not self.code:
                out.append((("evidence", "code"), "code evidence needs the official repository in the 'code' field"))
            else:
                home = repo_of(self.code)
                for i, u in enumerate(ev.code):
                    if repo_of(u) != home:
                        out.append((("evidence", "code", i), f"{shorten(u)} is not in the official repository {self.code} "
                                    "(code evidence is read from the authors' own code)"))
        return out

    def levels(self) -> dict[str, int]:
        """How many loss tags rest on each evidence level."""
        return {lv: sum(1 for x in self.losses.values() if x == lv) for lv in EVIDENCE_LEVELS}

    def ordered(self) -> dict:
        """The paper as a plain dict in canonical field order, empty optionals left out."""
        data = self.model_dump(mode="json")
        out: dict = {}
        for name in FIELD_ORDER:
            value = data[name]
            if value is None or value == [] or value == "":
                continue
            if name in ("provenance", "evidence"):
                value = {k: v for k, v in value.items() if v not in (None, "", [])}
                if not value:
                    continue
            if name == "results":
                defaults = {k: f.default for k, f in ResultRow.model_fields.items() if not f.is_required()}
                value = [{k: v for k, v in row.items() if k not in defaults or v != defaults[k]} for row in value]
            out[name] = value
        return out


def json_schema() -> dict:
    """JSON Schema of a paper file (editors: `# yaml-language-server: $schema=../paper.schema.json`)."""
    schema = Paper.model_json_schema()
    schema["title"] = "sins catalog paper"
    return schema
