"""``python -m newsdrift.ops.sample [--host H] [--port P]``: serve the sample corpus in the foreground."""

from __future__ import annotations

import argparse

from newsdrift.ops.sample.server import serve_forever


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m newsdrift.ops.sample", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    serve_forever(args.host, args.port)


if __name__ == "__main__":
    main()
