"""The classroom glossary: every term a student meets, in plain words, for hover or tap.

The definitions are data (``glossary.yaml`` next to this file): a term, its text for a
student, the source texts it comes from (by id, as cited in
``docs/MODEL.md``) and other spellings the page uses (the model's names, ``regime_security``).
``glossed_html`` marks the first use of each known term in a piece of HTML with an
``<abbr>`` whose title is the definition: the browser shows it on hover, and the app's
style sheet (``GLOSSARY_CSS``) shows it on tap (focus) where there is no mouse.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from alignment_sim.errors import ConfigError

GLOSSARY_FILE = Path(__file__).with_name("glossary.yaml")
SOURCE_ID = re.compile(r"^\d{3}_[0-9a-f]{16}$")
"""A source text's id, as ``docs/REFERENCES.md`` lists the texts (file name without ``.txt``)."""
TERM_CLASS = "as-term"

GLOSSARY_CSS = f"""
abbr.{TERM_CLASS} {{ text-decoration: underline dotted; cursor: help; position: relative; }}
@media (hover: none) {{
  abbr.{TERM_CLASS}:focus::after {{
    content: attr(title); position: absolute; left: 0; top: 1.4em; z-index: 10;
    width: min(18em, 80vw); padding: 6px 8px; border-radius: 4px;
    background: #333; color: #fff; font-size: 13px; font-weight: normal; line-height: 1.3;
  }}
}}
"""
"""Styles for glossed terms: a dotted underline, and the definition shown under the term
when it is tapped on a touch screen (``title`` alone shows only on hover)."""


@dataclass(frozen=True)
class Entry:
    """One glossary term: its plain-language text, source text ids and other spellings."""

    term: str
    text: str
    sources: tuple[str, ...] = ()
    also: tuple[str, ...] = ()


def _strings(key: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(key, value, "a list of texts")
    return tuple(value)


def read_entries(path: Path = GLOSSARY_FILE) -> tuple[Entry, ...]:
    """Read and check a glossary file (ConfigError naming the term if an entry is broken)."""
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict):
        raise ConfigError(str(path), raw, "a mapping of terms to entries")
    entries = []
    for term, entry in raw.items():
        key = f"glossary {term}"
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str):
            raise ConfigError(key, entry, "a mapping with a text")
        unknown = set(entry) - {"text", "sources", "also"}
        if unknown:
            raise ConfigError(f"{key}.{sorted(unknown)[0]}", entry, "text, sources or also")
        sources = _strings(f"{key}.sources", entry.get("sources"))
        for source in sources:
            if not SOURCE_ID.match(source):
                raise ConfigError(f"{key}.sources", source, "a source text id (003_<16 hex>)")
        entries.append(
            Entry(
                str(term),
                entry["text"].strip(),
                sources,
                _strings(f"{key}.also", entry.get("also")),
            )
        )
    return tuple(entries)


@cache
def entries() -> tuple[Entry, ...]:
    """The packaged glossary's entries, read once."""
    return read_entries()


def glossary() -> dict[str, str]:
    """Every spelling a student may see (terms and their other spellings) -> its text."""
    return {name: e.text for e in entries() for name in (e.term, *e.also)}


@cache
def _pattern() -> re.Pattern[str]:
    names = sorted(glossary(), key=len, reverse=True)  # longest first: "economic pressure"
    alternatives = "|".join(re.escape(name) for name in names)
    return re.compile(rf"(?<![\w-])({alternatives})(?![\w-])", re.IGNORECASE)


def _lookup() -> dict[str, str]:
    return {name.lower(): text for name, text in glossary().items()}


TAG = re.compile(r"(<[^>]*>)")
SKIPPED_TAGS = ("abbr", "a", "code", "pre", "script", "style", "title")
"""Text inside these elements is left as it is (already glossed, a link, code, style)."""


def glossed_html(text: str, *, every: bool = False) -> str:
    """``text`` (HTML, or plain text) with known terms wrapped in
    ``<abbr class="as-term" tabindex="0" title="definition">``: the first use of each term
    (every use with ``every=True``), outside tags and outside ``abbr``, ``a`` and code.
    A term's spellings count as one term (``utility`` after ``score`` is not glossed)."""
    lookup = _lookup()
    canonical = {name.lower(): e.term for e in entries() for name in (e.term, *e.also)}
    seen: set[str] = set()
    skipping: list[str] = []
    parts = []
    for part in TAG.split(text):
        if part.startswith("<"):
            name = re.match(r"</?\s*([a-zA-Z0-9]+)", part)
            tag = name.group(1).lower() if name else ""
            if tag in SKIPPED_TAGS and not part.endswith("/>"):
                if part.startswith("</"):
                    if tag in skipping:
                        skipping.remove(tag)
                else:
                    skipping.append(tag)
            parts.append(part)
            continue
        if skipping or not part:
            parts.append(part)
            continue

        def wrap(match: re.Match[str]) -> str:
            word = match.group(1)
            term = canonical[word.lower()]
            if term in seen and not every:
                return word
            seen.add(term)
            title = html.escape(lookup[word.lower()], quote=True)
            return f'<abbr class="{TERM_CLASS}" tabindex="0" title="{title}">{word}</abbr>'

        parts.append(_pattern().sub(wrap, part))
    return "".join(parts)
