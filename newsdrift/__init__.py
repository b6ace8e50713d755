"""newsdrift: watch the press coverage of a debate, detect duplicates and narrative drift."""

__version__ = "0.1.0"
