"""YAML reading and writing for the catalog.

Two readers, one job each: libyaml (through PyYAML's C loader) reads values
fast, and ruamel.yaml's round-trip loader maps a field path to its line only
when a file has a problem to report. Writing is canonical (fixed key order,
id lists in flow style) with ruamel.yaml, so that loading and saving an
unchanged catalog rewrites no byte.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any, Sequence

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import SingleQuotedScalarString

from .errors import Problem, shorten

#: a catalog or spec file larger than this is refused unread (the largest paper file is a few KB)
MAX_FILE_BYTES = 256 * 1024


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """Safe loader that keeps '1609.03677' a string and refuses duplicate keys."""

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        seen: set = set()
        for key_node, _ in node.value:
            # keys of catalog files are plain scalars: compare their text, no need to construct them twice
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else id(key_node)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    "while reading a mapping", node.start_mark, f"found duplicate key {shorten(repr(key), 80)}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# no field of the catalog is a float: read such scalars as text (arXiv ids)
_Loader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:float"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _Loader.construct_mapping)


class _FloatLoader(_Loader):
    """Same, with floats (for experiment specs and configs)."""


_FloatLoader.yaml_implicit_resolvers = {ch: list(r) for ch, r in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def read_text(path: Path, shown: str, limit: int = MAX_FILE_BYTES) -> tuple[str | None, list[Problem]]:
    """File text, or a problem naming the first byte that is not UTF-8 (or the size of a file too large to read)."""
    try:
        size = path.stat().st_size
    except OSError as e:
        return None, [Problem(shown, 0, "", f"cannot read the file: {e.strerror}")]
    if size > limit:
        return None, [Problem(shown, 0, "", f"file is {size:,} bytes, larger than the {limit:,} bytes a catalog file may have; "
                                            "is it the right file?")]
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        return None, [Problem(shown, line, "", f"not UTF-8: byte 0x{data[e.start]:02x} at column {col}; save the file as UTF-8")]


_MAYBE_ANCHOR = re.compile(r"(^|[\s\[\]{},:-])[&*][^\s]")


def _anchor_problem(text: str, shown: str, loader) -> Problem | None:
    """The first anchor or alias of the document, if any (a cheap text test first, then the parser's events)."""
    if not _MAYBE_ANCHOR.search(text):
        return None
    for event in yaml.parse(text, Loader=loader):
        name = None
        if isinstance(event, yaml.AliasEvent):
            name, what = event.anchor, "alias"
        elif getattr(event, "anchor", None):
            name, what = event.anchor, "anchor"
        if name is not None:
            mark = event.start_mark
            return Problem(shown, mark.line + 1, "", f"YAML {what} {'*' if what == 'alias' else '&'}{shorten(name, 40)} at column "
                           f"{mark.column + 1}: anchors and aliases are not allowed in catalog files; write the value out")
    return None


def parse(text: str, shown: str, floats: bool = False) -> tuple[Any, list[Problem]]:
    """Parsed YAML values, or a problem with the line and column of the syntax error.

    Catalog files have no float field, so by default '1609.03677' stays text;
    ``floats=True`` reads numbers as YAML does (specs, configs). Anchors and aliases
    are refused before anything is built (a few lines of aliases can expand into
    gigabytes)."""
    loader = _FloatLoader if floats else _Loader
    try:
        anchor = _anchor_problem(text, shown, loader)
        if anchor is not None:
            return None, [anchor]
        return yaml.load(text, Loader=loader), []
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        what = " ".join(x for x in (e.context, e.problem) if x)
        return None, [Problem(shown, line, "", f"YAML syntax error at column {col}: {what}")]
    except yaml.YAMLError as e:  # pragma: no cover - libyaml reports marks for all we know
        return None, [Problem(shown, 0, "", f"YAML error: {e}")]


class Lines:
    """Maps a field path such as ('losses', 2) to its 1-based line in the source."""

    def __init__(self, text: str):
        self._tree = None
        self._text = text

    @property
    def tree(self):
        if self._tree is None:
            try:
                self._tree = YAML(typ="rt").load(self._text)
            except Exception:  # the fast reader accepted it; positions are a nicety
                self._tree = CommentedMap()
        return self._tree

    def line(self, loc: Sequence[Any]) -> int:
        node, line = self.tree, 1
        for part in loc:
            try:
                if isinstance(node, CommentedMap) and part in node:
                    line = node.lc.key(part)[0] + 1
                    node = node[part]
                elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                    line = node.lc.item(part)[0] + 1
                    node = node[part]
                else:
                    break
            except (AttributeError, KeyError, IndexError, TypeError):
                break
        return line


def _rt_yaml() -> YAML:
    y = YAML(typ="rt")
    y.width = 4096
    y.indent(mapping=2, sequence=4, offset=2)
    y.allow_unicode = True
    return y


def _flow(items: list) -> CommentedSeq:
    seq = CommentedSeq(items)
    seq.fa.set_flow_style()
    return seq


_RESOLVER = _Loader("")


def _text(v):
    """A string that our (YAML 1.1) loader would read as something else when written plain, such as ``NO``,
    ``on`` or ``null``, is written quoted: the writer follows YAML 1.2, where those are plain text."""
    if isinstance(v, str) and _RESOLVER.resolve(yaml.nodes.ScalarNode, v, (True, False)) != "tag:yaml.org,2002:str":
        return SingleQuotedScalarString(v)
    return v


def dump_ordered(data: dict, flow_fields: Sequence[str]) -> str:
    """Canonical YAML text for a dict already in the wanted key order (``flow_fields``: lists and
    mappings written on one line, ``[a, b]`` and ``{a: x, b: y}``)."""
    def convert(d: dict) -> CommentedMap:
        m = CommentedMap()
        for k, v in d.items():
            v = _text(v)
            if isinstance(v, list):
                v = [_text(x) for x in v]
            if k in flow_fields and isinstance(v, list):
                v = _flow(v)
            elif isinstance(v, dict):
                v = convert(v)
                if k in flow_fields:
                    v.fa.set_flow_style()
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                v = CommentedSeq([convert(x) for x in v])
            m[k] = v
        return m

    buf = io.StringIO()
    _rt_yaml().dump(convert(data), buf)
    return buf.getvalue()


def write_atomic(path: Path, text: str) -> bool:
    """Write text if it differs from what is there; returns whether it wrote."""
    if path.exists() and path.read_bytes() == text.encode("utf-8"):
        return False
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True
