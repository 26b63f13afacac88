"""HTML of the generated pages, from Jinja2 templates with autoescaping (``templates/``).

Every catalog string is escaped by default where it lands. Pages are Markdown files for MkDocs:
headings are Markdown lines (so that the table of contents lists them; their text goes through
:func:`md_text`, which neutralises Markdown as well as HTML) and everything else is raw HTML blocks,
which :func:`tidy` keeps free of blank lines (a blank line would end a raw block early).
"""
from __future__ import annotations

import html
import json
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

_MD_SPECIAL = set("\\`*_{}[]()#+-.!|~:=^$@%")


def md_text(text: Any) -> Markup:
    """Text safe both as HTML and as Markdown: every special character becomes an entity, line breaks spaces."""
    out = []
    for ch in str(text):
        if ch in "&<>\"'":
            out.append(html.escape(ch, quote=True).replace("&#x27;", "&#39;"))
        elif ch in _MD_SPECIAL:
            out.append(f"&#{ord(ch)};")
        elif ch in "\r\n\t":
            out.append(" ")
        else:
            out.append(ch)
    return Markup("".join(out))


def pre_text(text: Any) -> Markup:
    """Escaped text for a <pre> block: line breaks kept, blank lines dropped (they would end the raw block)."""
    return Markup("\n".join(str(md_text(line)) for line in str(text).splitlines() if line.strip()))


def _finalize(value: Any) -> Any:
    # a newline in a catalog string must not reach the page raw: it could end a raw HTML block
    if isinstance(value, str) and not isinstance(value, Markup):
        return value.replace("\r", " ").replace("\n", " ")
    return "" if value is None else value


def fmt(v: Any) -> str:
    """A number as people read it; lists joined; None as a dash (markup built by the generator passes through)."""
    if isinstance(v, Markup):
        return v
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)) and all(isinstance(x, (int, float)) or x is None for x in v):
        return ", ".join("—" if x is None else fmt(x) for x in v)
    if isinstance(v, (list, dict)):
        return json.dumps(v, separators=(", ", ": "), default=str)
    return "—" if v is None else str(v)


def formula(latex: str) -> Markup:
    """LaTeX -> MathML at build time (no JavaScript, no network); escaped text if it does not convert."""
    if not latex:
        return Markup("")
    try:
        from latex2mathml.converter import convert

        return Markup(convert(latex, display="block"))
    except Exception:  # noqa: BLE001 - a formula the converter cannot read still shows as text
        return Markup("<code>") + latex + Markup("</code>")


_ENV: Environment | None = None


def env() -> Environment:
    global _ENV
    if _ENV is None:
        e = Environment(loader=PackageLoader("sins.site", "templates"), autoescape=select_autoescape(default=True),
                        undefined=StrictUndefined, finalize=_finalize, trim_blocks=True, lstrip_blocks=True)
        e.filters.update(md=md_text, pre=pre_text, fmt=fmt, formula=formula, tojson_attr=lambda v: json.dumps(v))
        _ENV = e
    return _ENV


def tidy(text: str) -> str:
    """Markdown headings (lines starting with '#') stand alone between blank lines; every other blank line goes,
    so that each run of HTML is one raw block."""
    lines = [ln.rstrip() for ln in text.splitlines()]
    out: list[str] = []
    for ln in lines:
        if not ln.strip():
            continue
        if ln.lstrip().startswith("#") and not ln.lstrip().startswith("#&"):
            out += ["", ln.strip(), ""]
        else:
            out.append(ln)
    front = []
    if out and out[0] == "---":  # keep the YAML front matter first
        end = out.index("---", 1)
        front, out = out[: end + 1] + [""], out[end + 1:]
    return "\n".join(front + out).strip("\n") + "\n"


def page(template: str, **ctx: Any) -> str:
    """Render one page template to the Markdown text MkDocs reads."""
    return tidy(env().get_template(template).render(**ctx))


def front_matter(title: str, hide: tuple[str, ...] = ()) -> Markup:
    """Front matter with an HTML-escaped page title (the theme puts page.title in <title> and the nav unescaped);
    ``hide`` lists the theme's parts to hide (navigation, toc)."""
    extra = "".join(f"\n  - {h}" for h in hide)
    return Markup(f"---\ntitle: {json.dumps(html.escape(title, quote=True))}" + (f"\nhide:{extra}" if hide else "") + "\n---")
