"""page -> article: text and metadata from a fetched page, or from the feed's own text when the page
cannot be had, and the URL normalisation article ids rest on.

Depends on newsdrift only through ``newsdrift.records``, ``newsdrift.settings`` and ``newsdrift.errors``.
Modules are imported on demand (``from extractors.article import extract_article``) so that importing
one does not load the libraries of the others (trafilatura is loaded only by ``extractors.article``).
"""
