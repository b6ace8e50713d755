"""Narrative drift against a named baseline: article scores, window metrics, change events, their store and report."""
