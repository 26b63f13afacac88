"""Metadata look-ups for people who add papers: the arXiv API and Crossref.

Real HTTP with ``requests``: an on-disk cache (requests-cache, successful
answers only), retries with exponential backoff on 5xx answers and timeouts,
``Retry-After`` honoured on 429, a polite minimum interval between calls to
the same host, and a clear message when the network cannot be reached.
Nothing here writes to the catalog; the command shows a diff first.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

import requests

ARXIV_API = "https://export.arxiv.org/api/query"
CROSSREF_API = "https://api.crossref.org/works"
USER_AGENT = "sins-survey/0.1 (https://github.com/; metadata check of a paper catalog)"
_ATOM = {"a": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom"}


class LookupFailed(RuntimeError):
    """A look-up that could not give an answer; the message says why and what to do."""


@dataclass
class Metadata:
    title: str
    authors: list[str]
    year: int
    doi: str | None = None
    venue: str | None = None
    arxiv: str | None = None
    sources: list[str] = field(default_factory=list)


def default_cache() -> Path:
    return Path.home() / ".cache" / "sins" / "http"


class Client:
    """HTTP client for the two services, with cache, retries and a rate limit."""

    def __init__(
        self,
        arxiv_api: str = ARXIV_API,
        crossref_api: str = CROSSREF_API,
        cache: Path | None = None,
        timeout: float = 15.0,
        retries: int = 3,
        backoff: float = 1.0,
        min_interval: float = 3.0,
        max_retry_after: float = 60.0,
    ):
        self.arxiv_api, self.crossref_api = arxiv_api, crossref_api
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.min_interval, self.max_retry_after = min_interval, max_retry_after
        self._last: dict[str, float] = {}
        if cache is None:
            self.session: requests.Session = requests.Session()
        else:
            import requests_cache

            cache.parent.mkdir(parents=True, exist_ok=True)
            self.session = requests_cache.CachedSession(
                str(cache), backend="sqlite", expire_after=7 * 24 * 3600, allowable_codes=(200,)
            )
        self.session.headers["User-Agent"] = USER_AGENT

    def _wait_turn(self, host: str) -> None:
        last = self._last.get(host)
        if last is not None:
            delay = self.min_interval - (time.monotonic() - last)
            if delay > 0:
                time.sleep(delay)

    def get(self, url: str, what: str) -> requests.Response:
        """GET with retries; returns a 200 or 404 response, raises LookupFailed otherwise."""
        host = urlparse(url).netloc
        attempt = 0
        while True:
            attempt += 1
            from_cache = False
            self._wait_turn(host)
            try:
                resp = self.session.get(url, timeout=self.timeout)
                from_cache = bool(getattr(resp, "from_cache", False))
            except requests.exceptions.Timeout:
                if attempt > self.retries:
                    raise LookupFailed(f"{what}: {host} did not answer within {self.timeout:g} s ({attempt} tries); try again later. Nothing was changed.")
                self._last[host] = time.monotonic()
                time.sleep(self.backoff * 2 ** (attempt - 1))
                continue
            except requests.exceptions.ConnectionError as e:
                raise LookupFailed(f"{what}: cannot reach {host} (are you offline?): {type(e).__name__}. Nothing was changed.") from None
            finally:
                if not from_cache:
                    self._last[host] = time.monotonic()
            if resp.status_code in (200, 404):
                return resp
            if attempt > self.retries:
                raise LookupFailed(f"{what}: {host} answered HTTP {resp.status_code} after {attempt} tries; try again later. Nothing was changed.")
            if resp.status_code == 429:
                wait = _retry_after(resp.headers.get("Retry-After"), self.backoff * 2 ** (attempt - 1))
                if wait > self.max_retry_after:
                    raise LookupFailed(f"{what}: {host} asks to wait {wait:g} s (HTTP 429); try again later. Nothing was changed.")
                time.sleep(wait)
            elif resp.status_code >= 500:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            else:
                raise LookupFailed(f"{what}: {host} answered HTTP {resp.status_code}. Nothing was changed.")

    # ------------------------------------------------------------------ services

    def arxiv(self, arxiv_id: str) -> Metadata:
        arxiv_id = re.sub(r"^arxiv:", "", arxiv_id.strip(), flags=re.I)
        url = f"{self.arxiv_api}?id_list={quote(arxiv_id)}&max_results=1"
        resp = self.get(url, f"arXiv {arxiv_id}")
        if resp.status_code == 404:
            raise LookupFailed(f"arXiv has no paper {arxiv_id!r}: check the id (e.g. 1609.03677)")
        try:
            root = ET.fromstring(resp.content)
        except ET.ParseError as e:
            raise LookupFailed(f"arXiv {arxiv_id}: the answer is not valid Atom XML ({e}); try again later. Nothing was changed.") from None
        entries = root.findall("a:entry", _ATOM)
        entry = entries[0] if entries else None
        if entry is None or "api/errors" in (entry.findtext("a:id", "", _ATOM)) or not entry.findtext("a:title", "", _ATOM).strip():
            raise LookupFailed(f"arXiv has no paper {arxiv_id!r}: check the id (e.g. 1609.03677)")
        title = " ".join(entry.findtext("a:title", "", _ATOM).split())
        authors = [" ".join(a.findtext("a:name", "", _ATOM).split()) for a in entry.findall("a:author", _ATOM)]
        published = entry.findtext("a:published", "", _ATOM)
        doi = entry.findtext("arxiv:doi", None, _ATOM)
        journal = entry.findtext("arxiv:journal_ref", None, _ATOM)
        return Metadata(
            title=title, authors=authors, year=int(published[:4]) if published[:4].isdigit() else 0,
            doi=doi.strip() if doi else None, venue=" ".join(journal.split()) if journal else None,
            arxiv=re.sub(r"v\d+$", "", arxiv_id), sources=[f"https://arxiv.org/abs/{arxiv_id}"],
        )

    def crossref(self, doi: str) -> Metadata:
        url = f"{self.crossref_api}/{quote(doi, safe='/')}"
        resp = self.get(url, f"Crossref {doi}")
        if resp.status_code == 404:
            raise LookupFailed(f"Crossref has no DOI {doi!r}: check it (e.g. 10.1109/CVPR.2017.699)")
        try:
            msg = resp.json()["message"]
        except (ValueError, KeyError, TypeError):
            raise LookupFailed(f"Crossref {doi}: the answer is not the expected JSON; try again later. Nothing was changed.") from None
        title = " ".join((msg.get("title") or [""])[0].split())
        authors = [" ".join(f"{a.get('given', '')} {a.get('family', '')}".split()) for a in msg.get("author", [])]
        parts = (msg.get("issued") or msg.get("published-print") or msg.get("published-online") or {}).get("date-parts", [[0]])
        venue = (msg.get("container-title") or [None])[0]
        return Metadata(title=title, authors=authors, year=int(parts[0][0] or 0), doi=msg.get("DOI", doi),
                        venue=venue, sources=[f"https://doi.org/{doi}"])


def _retry_after(header: str | None, default: float) -> float:
    if header is None:
        return default
    try:
        return max(0.0, float(header))
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(header).timestamp() - time.time())
        except (TypeError, ValueError):
            return default


def lookup(arxiv: str | None = None, doi: str | None = None, client: Client | None = None) -> Metadata:
    """Facts from arXiv and/or Crossref. With a DOI, Crossref's title, authors, year and venue
    (the final publication) win over arXiv's (the preprint)."""
    client = client or Client(cache=default_cache())
    meta = client.arxiv(arxiv) if arxiv else None
    doi = doi or (meta.doi if meta else None)
    if doi:
        cr = client.crossref(doi)
        if meta:
            cr.arxiv, cr.sources = meta.arxiv, meta.sources + cr.sources
        return cr
    if meta is None:
        raise LookupFailed("give an arXiv id or a DOI to look up")
    return meta


def proposed_changes(paper, meta: Metadata) -> dict:
    """Fields of the paper that the looked-up metadata would change.

    The year and venue are only proposed from Crossref (the final publication);
    an arXiv-only answer proposes the year only for papers whose venue is arXiv.
    """
    changes: dict = {}
    if meta.title and meta.title != paper.title:
        changes["title"] = meta.title
    if meta.authors and meta.authors != paper.authors:
        changes["authors"] = meta.authors
    if meta.doi and meta.doi.lower() != (paper.doi or "").lower():
        changes["doi"] = meta.doi
    if meta.arxiv and not paper.arxiv:
        changes["arxiv"] = meta.arxiv
    final = any(s.startswith("https://doi.org/") for s in meta.sources)
    if meta.year and meta.year != paper.year and (final or paper.venue.lower() == "arxiv"):
        changes["year"] = meta.year
    return changes
