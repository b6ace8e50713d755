"""Render the labelled extraction pages of this folder from texts.py.

    python tests/data/extraction/build_pages.py

Each page NAME gets NAME.html (a hostile layout around the article) and
NAME.expected.txt (the article body an extractor should return: paragraphs
and subheadings, no headline, byline, navigation, comments or teasers), plus
manifest.json with the metadata tests check. Output is committed; rerun after
editing texts.py or the layouts below.
"""

# ruff: noqa: E501
import html
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(OUT))
from texts import ARTICLES  # noqa: E402

e = html.escape


def paras_html(a, tag="p"):
    out = []
    for p in a["paras"]:
        if p.startswith("## "):
            out.append(f"<h2>{e(p[3:])}</h2>")
        elif p == "TABLE":
            rows = a["table"]
            t = [
                '<table class="scores"><thead><tr>'
                + "".join(f"<th>{e(c)}</th>" for c in rows[0])
                + "</tr></thead><tbody>"
            ]
            for r in rows[1:]:
                t.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>")
            t.append("</tbody></table>")
            out.append("\n".join(t))
        else:
            out.append(f"<{tag}>{e(p)}</{tag}>")
    return "\n".join(out)


def expected(a):
    lines = []
    for p in a["paras"]:
        if p.startswith("## "):
            lines.append(p[3:])
        elif p == "TABLE":
            for r in a["table"]:
                lines.append(" ".join(r))
        else:
            lines.append(p)
    return "\n".join(lines) + "\n"


def head(a, extra="", canonical=None, charset="utf-8"):
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": a["title"],
        "datePublished": a["date"],
        "author": {"@type": "Person", "name": a["author"]},
        "publisher": {"@type": "Organization", "name": a["site"]},
    }
    can = f'<link rel="canonical" href="{e(canonical)}">' if canonical else ""
    return f"""<head>
<meta charset="{charset}">
<title>{e(a["title"])} | {e(a["site"])}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta property="og:title" content="{e(a["title"])}">
<meta property="og:site_name" content="{e(a["site"])}">
<meta property="og:type" content="article">
<meta name="author" content="{e(a["author"])}">
{can}
<script type="application/ld+json">{json.dumps(ld)}</script>
<link rel="stylesheet" href="/static/site.css">
<script>window.dataLayer=window.dataLayer||[];function gtag(){{dataLayer.push(arguments)}}gtag('js',new Date());</script>
{extra}
</head>"""


SECTIONS = [
    "World",
    "Politics",
    "Business",
    "Markets",
    "Technology",
    "AI",
    "Science",
    "Health",
    "Climate",
    "Sport",
    "Culture",
    "Opinion",
    "Travel",
    "Food",
    "Podcasts",
    "Video",
]
SUB = [
    "Latest",
    "Analysis",
    "Explainers",
    "Interviews",
    "Data",
    "Newsletters",
    "Events",
    "Archive",
    "Europe",
    "Americas",
]


def mega_nav():
    items = []
    for s in SECTIONS:
        subs = "".join(f'<li><a href="/{s.lower()}/{x.lower()}">{s} {x}</a></li>' for x in SUB)
        items.append(f'<li class="menu-item"><a href="/{s.lower()}">{s}</a><ul class="sub-menu">{subs}</ul></li>')
    return '<nav class="site-nav" aria-label="Main"><ul class="menu">' + "".join(items) + "</ul></nav>"


def footer_sitemap():
    cols = []
    for s in SECTIONS:
        cols.append(
            f'<div class="col"><h4>{s}</h4><ul>'
            + "".join(f'<li><a href="/{s.lower()}/{x.lower()}">{x}</a></li>' for x in SUB[:5])
            + "</ul></div>"
        )
    return (
        '<footer class="site-footer"><div class="sitemap">'
        + "".join(cols)
        + '</div><p class="legal">© 2026 All rights reserved. '
        "Terms of use. Privacy policy. Cookie settings. Accessibility statement. Contact us. Advertise with us. Careers.</p></footer>"
    )


MOST_READ = [
    "Ten things we learned from the quarterly earnings season",
    "Heatwave warning issued for the south as temperatures climb",
    "Why chip makers are racing to build factories in the desert",
    "The AI safety summit ended without agreement on model weights",
    "Review: the best budget laptops for students this year",
    "Open source maintainers say they are burning out",
    "Central bank holds rates steady, signals cuts later",
    "Inside the race to build a frontier model in Europe",
    "Meta shares rise after strong advertising quarter",
    "What the new privacy rules mean for your phone",
]


def write(name, page, a, encoding="utf-8"):
    (OUT / f"{name}.html").write_bytes(page.encode(encoding))
    (OUT / f"{name}.expected.txt").write_text(expected(a), encoding="utf-8")


def byline(a):
    return f'<div class="byline">By <a rel="author" href="/authors/x">{e(a["author"])}</a> · <time datetime="{a["date"]}">{a["date"][:10]}</time></div>'


# 1 nav-heavy
a = ARTICLES["nav-heavy"]
most = "".join(f'<li><a href="/story/{i}">{e(t)}</a></li>' for i, t in enumerate(MOST_READ))
page = f"""<!DOCTYPE html>
<html lang="en-GB">
{head(a, canonical="https://www.northgate-ledger.example/tech/2026/03/12/open-weight-gap-study?utm_source=rss&utm_medium=feed")}
<body>
<a class="skip" href="#main">Skip to content</a>
<header><div class="logo"><a href="/">{e(a["site"])}</a></div>
<form class="search"><input name="q" placeholder="Search"><button>Search</button></form>
{mega_nav()}
</header>
<ol class="breadcrumbs"><li><a href="/">Home</a></li><li><a href="/technology">Technology</a></li><li><a href="/ai">AI</a></li></ol>
<div class="layout">
<main id="main">
<article>
<h1>{e(a["title"])}</h1>
{byline(a)}
{paras_html(a)}
</article>
<div class="tags">Topics: <a href="/t/ai">AI</a> <a href="/t/open-source">Open source</a> <a href="/t/meta">Meta</a></div>
</main>
<aside class="sidebar"><h3>Most read</h3><ol>{most}</ol>
<h3>Newsletters</h3><p>Get the Ledger Tech briefing every weekday morning.</p><a href="/newsletters">Sign up</a></aside>
</div>
{footer_sitemap()}
</body></html>"""
write("nav-heavy", page, a)

# 2 comments
a = ARTICLES["comments"]
comments = "".join(
    f'<div class="comment"><div class="comment-meta"><span class="comment-author">{e(u)}</span> <span class="when">3 hours ago</span></div>'
    f'<div class="comment-body"><p>{e(t)}</p></div><div class="comment-actions"><a href="#">Reply</a> <a href="#">Report</a> <span>12 likes</span></div></div>'
    for u, t in a["comments"]
)
page = f"""<!DOCTYPE html>
<html lang="en">
{head(a)}
<body class="single-post">
<div id="top-bar"><a href="/">Civic Tech Review</a> | <a href="/subscribe">Subscribe</a> | <a href="/login">Log in</a></div>
<div class="container">
<div class="post">
<h1 class="entry-title">{e(a["title"])}</h1>
<p class="post-meta">Opinion · {e(a["author"])} · 2 February 2026</p>
<div class="story-body entry-content">
{paras_html(a)}
</div>
<div class="author-box"><p>{e(a["author"])} writes about technology policy. His column appears every other Monday.</p></div>
<div class="share">Share this: <a href="#">Facebook</a> <a href="#">X</a> <a href="#">LinkedIn</a> <a href="#">Email</a></div>
</div>
<section id="comments" class="comments-area">
<h3 class="comments-title">{len(a["comments"])} comments</h3>
{comments}
<form id="respond"><h3>Leave a comment</h3><textarea name="comment"></textarea><p>Your email address will not be published. Required fields are marked.</p><button>Post comment</button></form>
</section>
</div>
<footer><p>Civic Tech Review is published by the Civic Tech Foundation, a non-profit. About us · Ethics policy · Contact</p></footer>
</body></html>"""
write("comments", page, a)

# 3 related-lists
a = ARTICLES["related-lists"]
paras = a["paras"]
inline = [
    '<aside class="related-inline"><strong>Read more:</strong> <a href="/ai-act-timeline">The AI Act timeline explained in five charts</a></aside>',
    '<aside class="related-inline"><strong>Also read:</strong> <a href="/gpai-code">What the general-purpose AI code of practice asks of developers</a></aside>',
]
body = []
for i, p in enumerate(paras):
    body.append(f"<p>{e(p)}</p>")
    if i in (1, 3):
        body.append(inline[0 if i == 1 else 1])
related = "".join(
    f'<li class="teaser"><h3><a href="/r/{i}">{e(t)}</a></h3><p>{e(s)}</p></li>'
    for i, (t, s) in enumerate(a["related"])
)
page = f"""<!DOCTYPE html>
<html lang="en">
{head(a, canonical="/policy/eu-open-model-exemptions")}
<body>
<header><a href="/">Brussels Briefing</a><nav><a href="/policy">Policy</a> <a href="/tech">Tech</a> <a href="/energy">Energy</a> <a href="/trade">Trade</a></nav></header>
<main>
<article class="article">
<header><h1>{e(a["title"])}</h1>{byline(a)}</header>
<div class="article-body">
{"".join(body)}
</div>
</article>
<section class="newsletter-signup"><h2>Get Brussels Briefing in your inbox</h2><p>Our free daily newsletter explains the decisions shaping European technology policy, every weekday at 7am.</p><form><input type="email" placeholder="Your email"><button>Subscribe</button></form></section>
<section class="related"><h2>Related stories</h2><ul>{related}</ul></section>
</main>
<footer><p>Brussels Briefing · Rue de la Loi · Privacy · Imprint</p></footer>
</body></html>"""
write("related-lists", page, a)

# 4 cookie-banner
a = ARTICLES["cookie-banner"]
cookie = """<div id="cookie-consent" class="cmp-modal" role="dialog" aria-label="Privacy choices">
<h2>We value your privacy</h2>
<p>We and our 843 partners store and access information on your device, such as cookies and unique identifiers, and process personal data such as browsing data to personalise content and advertising, measure performance and develop and improve our products and services.</p>
<p>With your permission we and our partners may use precise geolocation data and identification through device scanning. You may click to consent to our and our partners' processing as described above. Alternatively you may access more detailed information and change your preferences before consenting or to refuse consenting.</p>
<p>Please note that some processing of your personal data may not require your consent, but you have a right to object to such processing. Your preferences will apply to this website only. You can change your preferences at any time by returning to this site or visiting our privacy policy.</p>
<div class="cmp-buttons"><button>Accept all</button><button>Reject all</button><button>Manage options</button></div>
</div>"""
paywall = """<div class="paywall-teaser"><p>You have 2 free articles left this month. Subscribe for unlimited access to Venture Desk reporting, newsletters and events.</p><a href="/subscribe">Subscribe now</a> <a href="/login">Already a subscriber? Sign in</a></div>"""
page = f"""<!DOCTYPE html>
<html lang="en-US">
{head(a)}
<body>
{cookie}
<header class="masthead"><a href="/">Venture Desk</a><ul class="nav"><li><a href="/startups">Startups</a></li><li><a href="/funding">Funding</a></li><li><a href="/ai">AI</a></li><li><a href="/fintech">Fintech</a></li></ul></header>
<main><div class="content">
<h1 class="headline">{e(a["title"])}</h1>
{byline(a)}
<div class="ad-slot">Advertisement</div>
{paras_html(a)}
{paywall}
</div></main>
<footer><p>© Venture Desk Media. Do not sell or share my personal information.</p></footer>
</body></html>"""
write("cookie-banner", page, a)

# 5 legacy-cp1252 (bytes in windows-1252, declared only in a meta http-equiv)
a = ARTICLES["legacy-cp1252"]
ps = "\n".join(f'<p><font face="Georgia" size="3">{html.escape(p, quote=False)}</font></p>' for p in a["paras"])
page = f"""<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN">
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">
<title>{html.escape(a["title"], quote=False)} - {a["site"]}</title>
<meta name="date" content="{a["date"]}">
<meta name="author" content="{a["author"]}">
</head>
<body bgcolor="#ffffff">
<table width="100%" border="0" cellpadding="0" cellspacing="0">
<tr><td colspan="2"><a href="/">{a["site"]}</a> | <a href="/actualit%E9s">Actualités</a> | <a href="/archives">Archives</a> | <a href="/contact">Contact</a></td></tr>
<tr>
<td width="160" valign="top" class="menu"><a href="/startups">Start-ups</a><br><a href="/ia">Intelligence artificielle</a><br><a href="/financement">Financement</a><br><a href="/agenda">Agenda</a><br><a href="/emploi">Emploi</a></td>
<td valign="top">
<h1>{html.escape(a["title"], quote=False)}</h1>
<p><i>Par {a["author"]}, le 17 juin 2026</i></p>
{ps}
<p><a href="/archives">« Retour aux archives</a></p>
</td></tr>
<tr><td colspan="2"><small>© 2026 {a["site"]} – Tous droits réservés</small></td></tr>
</table>
</body></html>"""
write("legacy-cp1252", page, a, encoding="cp1252")

# 6 table-article
a = ARTICLES["table-article"]
page = f"""<!DOCTYPE html>
<html lang="en">
{head(a)}
<body>
<header><a href="/">Benchmarks Weekly</a> <nav><a href="/models">Models</a> <a href="/leaderboards">Leaderboards</a> <a href="/methods">Methods</a></nav></header>
<main>
<article>
<h1>{e(a["title"])}</h1>
{byline(a)}
{paras_html(a)}
</article>
<aside><h3>Methodology</h3><p>See our methods page for how we collect and verify scores.</p></aside>
</main>
<footer>Benchmarks Weekly · independent since 2023</footer>
</body></html>"""
write("table-article", page, a)

# 7 pullquotes / captions / share / ads
a = ARTICLES["pullquotes"]
body = []
for i, p in enumerate(a["paras"]):
    if p == a["pullquote"]:
        p = "\u201c" + p + "\u201d said lead author Mei Tanaka, a researcher at the Alder Safety Lab."
        a["paras"][i] = p
    body.append(f"<p>{e(p)}</p>")
    if i == 0:
        body.append(
            '<figure><img src="/img/gpu.jpg" alt="A graphics card"><figcaption>A single consumer graphics card was enough to remove the safeguards. Photo: Alder Safety Lab</figcaption></figure>'
        )
    if i == 2:
        body.append(f'<blockquote class="pullquote"><p>{e(a["pullquote"])}</p></blockquote>')
    if i == 3:
        body.append('<div class="ad" data-ad="mid"><span>Advertisement</span></div>')
page = f"""<!DOCTYPE html>
<html lang="en">
{head(a)}
<body>
<header><a href="/">Frontier Watch</a> <nav><a href="/safety">Safety</a> <a href="/policy">Policy</a> <a href="/research">Research</a> <a href="/newsletter">Newsletter</a></nav></header>
<article class="story">
<h1>{e(a["title"])}</h1>
{byline(a)}
<ul class="share-tools"><li><a href="#">Share on X</a></li><li><a href="#">Share on LinkedIn</a></li><li><button>Copy link</button></li></ul>
<div class="story-content">
{"".join(body)}
</div>
<div class="author-bio"><img src="/img/hw.jpg" alt=""><p>Hannah Whitfield covers AI safety and policy for Frontier Watch. She was previously a science correspondent in Berlin.</p></div>
</article>
<section class="more"><h2>More from Frontier Watch</h2><ul><li><a href="/a">Labs sign voluntary commitments on model evaluations</a></li><li><a href="/b">What red-teaming can and cannot tell us</a></li><li><a href="/c">The open weights debate, explained</a></li></ul></section>
<footer>Frontier Watch · Independent reporting on AI risk</footer>
</body></html>"""
write("pullquotes", page, a)

# 8 off-topic with nav + comments
a = ARTICLES["offtopic-cycle-lanes"]
comments = "".join(f'<li class="comment"><b>{e(u)}</b><p>{e(t)}</p></li>' for u, t in a["comments"])
page = f"""<!DOCTYPE html>
<html lang="en-GB">
{head(a)}
<body>
<div class="cookie-notice">This site uses cookies to improve your experience. By continuing to browse you agree to our use of cookies. <a href="/cookies">Find out more</a> <button>OK</button></div>
<header><a href="/">Eastfield Echo</a>{mega_nav()}</header>
<div id="content"><div class="main-col">
<h1>{e(a["title"])}</h1>
{byline(a)}
<div class="article-text">{paras_html(a)}</div>
<h3>Comments</h3><ul class="comments">{comments}</ul>
</div>
<div class="side-col"><h3>Most read</h3><ol>{most}</ol></div></div>
{footer_sitemap()}
</body></html>"""
write("offtopic-cycle-lanes", page, a)


# 9 div soup with unmarked reader responses
a = ARTICLES["div-soup-responses"]
resp = "".join(
    f'<div class="r-item"><div class="r-name">{e(u)}</div><div class="r-text">{e(t)}</div></div>'
    for u, t in a["responses"]
)
body = "".join(f'<div class="txt">{e(p)}</div>' for p in a["paras"])
page = f"""<!DOCTYPE html>
<html lang="en">
{head(a)}
<body>
<div class="top"><div class="logo"><a href="/">Daily Compute</a></div><div class="menu"><a href="/news">News</a> <a href="/cloud">Cloud</a> <a href="/chips">Chips</a> <a href="/ai">AI</a> <a href="/jobs">Jobs</a></div></div>
<div class="wrap"><div class="left">
<div class="hl">{e(a["title"])}</div>
<div class="by">{e(a["author"])} | 19 Aug 2026</div>
<div class="story">{body}</div>
<div class="reader-responses"><div class="rr-head">What readers say</div>{resp}</div>
</div>
<div class="right"><div class="box"><div class="box-t">Trending</div>{"".join(f'<div class="t"><a href="/x{i}">{e(t)}</a></div>' for i, t in enumerate(MOST_READ[:6]))}</div></div>
</div>
<div class="bottom">Daily Compute · Terms · Privacy</div>
</body></html>"""
write("div-soup-responses", page, a)

# 10 short paragraphs + long teasers
a = ARTICLES["short-paras-teasers"]
items = []
for p in a["paras"]:
    if p == "Key points:":
        items.append('<div class="summary"><p><strong>Key points:</strong></p><ul>')
    elif p in a["paras"][1:4]:
        items.append(f"<li>{e(p)}</li>")
        if p == a["paras"][3]:
            items.append("</ul></div>")
    else:
        items.append(f"<p>{e(p)}</p>")
teasers = "".join(
    f'<div class="teaser"><h3><a href="/t{i}">{e(t)}</a></h3><p>{e(s)}</p></div>'
    for i, (t, s) in enumerate(a["teasers"])
)
page = f"""<!DOCTYPE html>
<html lang="en-US">
{head(a)}
<body>
<header><a href="/">Capitol Tech</a> <nav><a href="/congress">Congress</a> <a href="/agencies">Agencies</a> <a href="/courts">Courts</a></nav></header>
<main>
<div class="article">
<h1>{e(a["title"])}</h1>
{byline(a)}
{"".join(items)}
</div>
<div class="more-coverage"><h2>More coverage</h2>{teasers}</div>
</main>
<footer>Capitol Tech · Nonpartisan technology policy news</footer>
</body></html>"""
write("short-paras-teasers", page, a)


# 11 paragraphs as <span> + <br> (no <p>), heavy nav
a = ARTICLES["span-paragraphs"]
body = "".join(f"<span class='para'>{e(p)}</span><br>" for p in a["paras"])
nav = "<ul>" + "".join(f"<li><a href='/s{i}'>Section {i} news and more</a></li>" for i in range(40)) + "</ul>"
page = f"""<!DOCTYPE html>
<html lang="en-US">
{head(a)}
<body>
<div class="nav">{nav}</div>
<div id="c"><h1>{e(a["title"])}</h1>{byline(a)}{body}</div>
<div class="foot">{nav}</div>
</body></html>"""
write("span-paragraphs", page, a)

# 12 paragraphs as <div> with inline links, heavy nav
a = ARTICLES["inline-link-divs"]


def linked(p):
    words = p.split(" ")
    return f"{e(' '.join(words[:10]))} <a href='/topic'>{e(' '.join(words[10:14]))}</a> {e(' '.join(words[14:]))}"


body = "".join(f"<div>{linked(p)}</div>" for p in a["paras"])
page = f"""<!DOCTYPE html>
<html lang="en-GB">
{head(a)}
<body>
<div class="nav">{nav}</div>
<div id="c"><h1>{e(a["title"])}</h1>{byline(a)}{body}</div>
<div class="foot">{nav}</div>
</body></html>"""
write("inline-link-divs", page, a)

# manifest with metadata the tests can check
manifest = {
    name: {
        "title": a["title"],
        "author": a["author"],
        "published": a["date"],
        "site_name": a["site"],
        "on_topic": not name.startswith("offtopic"),
        "encoding": "cp1252" if name == "legacy-cp1252" else "utf-8",
    }
    for name, a in ARTICLES.items()
}
(OUT / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
print(sorted(p.name for p in OUT.iterdir()))
