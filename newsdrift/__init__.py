"""newsdrift: watch the press coverage of a debate, detect duplicates and narrative drift."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newsdrift")
except PackageNotFoundError:  # a checkout on sys.path without an install
    __version__ = "0+unknown"
