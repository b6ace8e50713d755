"""Render article pages: one HTML skeleton per fictional outlet (``page_templates/<outlet>.html``).

Each outlet wraps the body in different markup and boilerplate (cookie banners,
navigation, ads, newsletter boxes, related links, comments, footers) so
extractors meet realistic variety. Only the ``<p>`` elements made from
``Page.paragraphs`` are article body; in-body ads, "Read more" lines and
sponsored blocks are boilerplate. Skeletons are ``string.Template`` files; links
keep the literal ``{base_url}`` placeholder for the server to substitute.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from html import escape
from pathlib import Path
from string import Template

from newsdrift.ops.sample.model import Page

TEMPLATES_DIR = Path(__file__).resolve().parent / "page_templates"
BASE = "{base_url}"

TECH_COMMENTS: tuple[tuple[str, str], ...] = (
    ("quietmodem", "Good piece, but I wish it had said more about what this means for people who aren't developers."),
    ("Helen R.", "A new 'this changes everything' model every few weeks. I'll believe it when my bank's bot works."),
    ("dk_builds", "We switched our side project last month. The hardest part was the paperwork, not the code."),
    ("Marguerite", "Who is checking any of this? Genuine question, not a rhetorical one."),
    ("old_sysadmin", "Reminds me of the early Linux days. Lots of noise, then suddenly it runs everything."),
    ("Priyesh", "The comments on these articles are always more polarised than the articles themselves."),
    ("anon-in-leeds", "Paywall again? I could read the first two paragraphs and then nothing."),
    ("Tomasz W.", "Would love a follow-up in six months to see which of these predictions held up."),
    ("fern_and_oak", "Interesting, but the headline oversells it a bit compared with what the article actually says."),
    ("J. Okonjo", "Thanks for quoting people who actually use these tools rather than just executives."),
)
GENERAL_COMMENTS: tuple[tuple[str, str], ...] = (
    ("Pat from Hollins", "Lovely, thanks. More of this please."),
    ("brendan_k", "Been waiting for this for ages. About time."),
    ("Sue M.", "Shared with my book club, they'll be delighted."),
    ("lurker42", "First time commenting, long time reader. Great stuff."),
    ("Anneliese", "Would be nice to see a follow-up later in the year."),
    ("G. Hart", "Not sure I agree with all of it but well written."),
)

OL_INLINE_AD = '<div class="ad ad-inline" aria-hidden="true"><span class="ad-label">Advertisement</span></div>'
BL_SPONSORED = (
    '<div class="sponsored-inline"><span class="label">Sponsored</span>'
    "<p>Ship models faster with NimbusGPU: reserved capacity from $1.89/hour, no long-term contract. "
    '<a href="https://nimbusgpu.example/?ref=byteline">Learn more</a></p></div>'
)
DC_PROMO = (
    '<aside class="promo"><h4>Partner content</h4>'
    "<p>How a regional bank cut its inference bill by 60% with spot GPUs. "
    "Download the free case study from GridStack.</p></aside>"
)


def _e(text: str) -> str:
    """Escape for attributes."""
    return escape(text, quote=True)


def _t(text: str) -> str:
    """Escape for text content; quotes stay literal as in most CMS output."""
    return escape(text, quote=False)


def _hash(seed: str) -> int:
    return int(hashlib.sha1(seed.encode()).hexdigest(), 16)


def _comments(page: Page, n: int) -> list[tuple[str, str]]:
    """Deterministic pick keyed by page id (stable across runs and Python versions)."""
    pool = TECH_COMMENTS if page.on_topic else GENERAL_COMMENTS
    start = _hash(page.id) % len(pool)
    return [pool[(start + 3 * i) % len(pool)] for i in range(n)]


def _clock12(hour: int, minute: int) -> str:
    """'3:05 PM' without depending on the process locale."""
    return f"{(hour - 1) % 12 + 1}:{minute:02d} {'AM' if hour < 12 else 'PM'}"


def _ld_json(data: Mapping[str, object]) -> str:
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _slug(text: str) -> str:
    return text.lower().replace(" & ", "-").replace(" ", "-")


def _paragraphs(page: Page, inserts: dict[int, str] | None = None, indent: str = "") -> str:
    """Body <p> elements; ``inserts`` puts boilerplate after the paragraph with that index."""
    out = []
    for i, para in enumerate(page.paragraphs):
        out.append(f"{indent}<p>{_t(para)}</p>")
        if inserts and i in inserts and i < len(page.paragraphs) - 1:
            out.append(indent + inserts[i])
    return "\n".join(out)


def _links(pages: Sequence[Page], indent: str) -> str:
    return "\n".join(f'{indent}<li><a href="{_e(p.path)}">{_t(p.title)}</a></li>' for p in pages)


def _credit(page: Page, markup: str) -> str:
    """Attribution line shown by partners that republish the wire story."""
    return markup.format("This story was provided by Meridian Wire.") if page.syndication == "copy" else ""


def _common(page: Page, related: Sequence[Page]) -> dict[str, str]:
    local = page.local_published
    return {
        "title": _t(page.title),
        "title_attr": _e(page.title),
        "summary_attr": _e(page.summary),
        "canonical": BASE + page.path,
        "author": _t(page.author),
        "author_attr": _e(page.author),
        "author_slug": _e(_slug(page.author)),
        "section": _t(page.section),
        "section_attr": _e(page.section),
        "section_slug": _e(_slug(page.section)),
        "iso": local.isoformat(),
        "comment_count": str(3 + _hash(page.id) % 90),
    }


def _open_ledger(page: Page, related: Sequence[Page]) -> dict[str, str]:
    """<article>, og: meta, visible <time>, an inline ad and a 'Read more' line inside the body."""
    local = page.local_published
    inserts = {2: OL_INLINE_AD}
    alike = [r for r in related if r.on_topic == page.on_topic]
    if alike:
        inserts[4] = (
            f'<p class="read-more"><strong>Read more:</strong> '
            f'<a href="{_e(alike[0].path)}">{_t(alike[0].title)}</a></p>'
        )
    comments = "\n".join(
        f'        <li class="comment"><p class="comment-author">{_t(name)}</p>'
        f'<p class="comment-text">{_t(text)}</p></li>'
        for name, text in _comments(page, 3)
    )
    return {
        "shown": f"{local:%a} {local.day} {local:%b %Y} {local:%H.%M} BST",
        "body": _paragraphs(page, inserts, "        "),
        "credit": _credit(page, '\n        <p class="credit">{}</p>'),
        "related": _links(related, "        "),
        "comments": comments,
    }


def _byteline(page: Page, related: Sequence[Page]) -> dict[str, str]:
    """Div soup with JSON-LD (no og:), a sponsored block inside the body, sidebar widgets."""
    local = page.local_published
    iso = local.isoformat()
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": page.title,
        "description": page.summary,
        "datePublished": iso,
        "dateModified": iso,
        "author": [{"@type": "Person", "name": page.author}],
        "publisher": {
            "@type": "Organization",
            "name": "Byteline",
            "logo": {"@type": "ImageObject", "url": f"{BASE}/byteline/static/logo.png"},
        },
        "mainEntityOfPage": {"@type": "WebPage", "@id": BASE + page.path},
        "articleSection": page.section,
    }
    shown = f"{local:%b} {local.day}, {local:%Y} {_clock12(local.hour, local.minute)} UTC"
    comments = "\n".join(
        f'      <div class="c"><b class="c-name">{_t(name)}</b><div class="c-text">{_t(text)}</div></div>'
        for name, text in _comments(page, 2)
    )
    return {
        "ld_json": _ld_json(ld),
        "dateline": "" if page.date_only_in_metadata else f' <span class="dateline">{shown}</span>',
        "body": _paragraphs(page, {1: BL_SPONSORED}, "      "),
        "credit": _credit(page, '\n    <div class="syndication-note">{}</div>'),
        "related": _links(related, "        "),
        "comments": comments,
    }


def _policy_wire(page: Page, related: Sequence[Page]) -> dict[str, str]:
    """Nested <section>s, Dublin Core meta only (no og:, no JSON-LD), US-style date."""
    local = page.local_published
    private = "robots_private" in page.flags
    return {
        "date": f"{local:%Y-%m-%d}",
        "shown": f"{local:%B} {local.day}, {local:%Y}",
        "embargo": '\n  <p class="embargo-note">Subscriber preview. Not for redistribution.</p>' if private else "",
        "body": _paragraphs(page, indent="    "),
        "related": _links(related, "      "),
    }


def _northern_tech_review(page: Page, related: Sequence[Page]) -> dict[str, str]:
    """Legacy CMS: HTML 4.01 tables, windows-1252, European date format, reader comments."""
    local = page.local_published
    comments = "\n".join(
        f'<tr><td class="comment"><b>{_t(name)}</b> wrote on {local:%d.%m.%Y}:<br>{_t(text)}</td></tr>'
        for name, text in _comments(page, 2)
    )
    return {
        "shown": f"{local:%d.%m.%Y %H:%M}",
        "body": _paragraphs(page),
        "credit": _credit(page, "<br><i>{}</i>"),
        "related": _links(related, ""),
        "comments": comments,
    }


def _daily_compute(page: Page, related: Sequence[Page]) -> dict[str, str]:
    """<main> with schema.org microdata and og:, a partner promo inside the body, comments after."""
    local = page.local_published
    shown = f"{local:%B} {local.day}, {local:%Y}"
    comments = "\n".join(
        f'      <div class="comment"><span class="who">{_t(name)}</span><p>{_t(text)}</p></div>'
        for name, text in _comments(page, 2)
    )
    return {
        "dateline": "" if page.date_only_in_metadata else f'\n      <div class="dateline">{shown}</div>',
        "body": _paragraphs(page, {3: DC_PROMO}, "        "),
        "credit": _credit(page, '\n      <p class="wire-credit">{}</p>'),
        "popular": _links(related[:3], "          "),
        "related": _links(related, "        "),
        "comments": comments,
    }


def _meridian_wire(page: Page, related: Sequence[Page]) -> dict[str, str]:
    """Bare wire layout: JSON-LD and og:, slug line, licensing notice."""
    local = page.local_published
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": page.title,
        "datePublished": local.isoformat(),
        "author": {"@type": "Person", "name": page.author},
        "publisher": {"@type": "Organization", "name": "Meridian Wire"},
        "url": BASE + page.path,
    }
    return {
        "ld_json": _ld_json(ld),
        "section_upper": _t(page.section.upper()),
        "shown": f"{local:%B} {local.day}, {local:%Y} {_clock12(local.hour, local.minute)} UTC",
        "body": _paragraphs(page, indent="    "),
        "related": _links(related, "    "),
    }


OUTLET_CONTEXT: dict[str, Callable[[Page, Sequence[Page]], dict[str, str]]] = {
    "openledger": _open_ledger,
    "byteline": _byteline,
    "policywire": _policy_wire,
    "ntr": _northern_tech_review,
    "dailycompute": _daily_compute,
    "meridian": _meridian_wire,
}


@cache
def _skeleton(outlet_id: str) -> Template:
    return Template((TEMPLATES_DIR / f"{outlet_id}.html").read_text(encoding="utf-8"))


def render_page(page: Page, related: Sequence[Page]) -> str:
    """The page's HTML as text (the caller encodes it in the outlet's charset)."""
    context = _common(page, related) | OUTLET_CONTEXT[page.outlet.id](page, related)
    return _skeleton(page.outlet.id).substitute(context)
