"""Fetch and extract: feed polling, polite page fetching, article extraction.

Modules are imported on demand (``from newsdrift.feeds.poll import poll_feed``) so
that importing one stage does not pull in the libraries of the others
(trafilatura is only loaded by ``extractors.article``).
"""
