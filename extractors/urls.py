"""URL normalisation for article identity: one spelling per article URL.

Feed links and page canonical URLs go through the same ``normalise_url`` so
``canonical_id_for_link(entry.link)`` equals ``Article.id`` whenever the page
does not point elsewhere with ``rel=canonical``.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from newsdrift.records import stable_id

# Parameters that only say how a reader arrived (campaign, click and share ids).
# courlan removes many more patterns (utm_*, *clid, ref, source, ...); these
# are the common ones it misses.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "twclid", "yclid", "igshid", "igsh",
        "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "cmpid", "cmp", "ncid", "ocid", "smid",
        "smtyp", "sr_share", "share", "spm", "mbid", "s_cid", "icid", "at_medium", "at_campaign", "wt.mc_id",
        "guccounter", "guce_referrer", "guce_referrer_sig", "taid", "__twitter_impression", "ito",
        "rss", "fromrss",
    }
)  # fmt: skip
_TRACKING_PREFIXES = ("utm_", "at_", "oly_", "vero_", "pk_", "mtm_", "hsa_", "__hs")


def _is_tracking(name: str) -> bool:
    key = name.lower()
    return key in _TRACKING_PARAMS or key.startswith(_TRACKING_PREFIXES)


def normalise_url(url: str) -> str:
    """Lower-case scheme/host, no default port, no fragment, sorted query without trackers."""
    import courlan  # ~0.1 s import; callers that never normalise do not pay it

    parts = urlsplit(url.strip())
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)])
    stripped = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", query, ""))
    try:
        normalised = courlan.normalize_url(stripped, strict=False, trailing_slash=True)
    except ValueError:
        normalised = stripped
    return urlunsplit(urlsplit(normalised)._replace(fragment=""))


def canonical_id_for_link(url: str) -> str:
    """The ``Article.id`` a feed link will get if its page does not name another canonical URL."""
    return stable_id(normalise_url(url))


def site_of(url: str) -> str:
    """Registrable domain (public-suffix aware), or the host for IPs and single-label hosts."""
    from tld import get_fld

    host = (urlsplit(url).hostname or "").lower()
    return get_fld(url, fail_silently=True, fix_protocol=True) or host


def same_site(url: str, other: str) -> bool:
    """True when both URLs belong to the same registrable domain (www./amp. subdomains included)."""
    return site_of(url) == site_of(other)
