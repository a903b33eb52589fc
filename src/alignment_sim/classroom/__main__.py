"""``alignment-sim-viz [--port N]``: serve the classroom app on localhost.

Runs Solara's server on ``alignment_sim.classroom.app`` in production mode, fully offline: the
front end comes from the ``solara-assets`` package (Solara's local copy of its CDN files),
and nothing is fetched from or reported to the internet (no telemetry, no version check,
no CDN fallback), so it works in a classroom without a network.
"""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path

APP = "alignment_sim.classroom.app"
DEFAULT_PORT = 8765
OFFLINE_CDN = "http://127.0.0.1:9/"
"""Where Solara's server would fetch a front-end file missing from its local copy: an
address that refuses at once, so a missing file fails fast instead of leaving the machine."""


def offline_environment(lessons: Path | None) -> dict[str, str]:
    """Solara settings (read from the environment when Solara is imported) for a quiet,
    offline server; values already set in the environment win."""
    values = {
        "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
        "SOLARA_ASSETS_PROXY": "true",
        "SOLARA_ASSETS_CDN": OFFLINE_CDN,
        "SOLARA_THEME_SHOW_BANNER": "false",
        "SOLARA_THEME_TITLE": "alignment-sim classroom",
        "SOLARA_CHECK_HOOKS": "off",
    }
    if lessons is not None:
        values["ALIGNMENT_SIM_LESSONS"] = str(lessons.resolve())
    return {key: os.environ.get(key, value) for key, value in values.items()}


def free_port(host: str) -> int:
    """A port the OS reports free on ``host`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="alignment-sim-viz",
        description="Serve the alignment-sim classroom app (a Mesa SolaraViz page) locally.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--lessons",
        type=Path,
        default=None,
        help="the lessons folder (default experiments/lessons)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: expected a port number in [0, 65535]")
    if args.lessons is not None and not args.lessons.is_dir():
        parser.error(f"--lessons {args.lessons}: expected an existing folder")
    return args


def main(argv: list[str] | None = None) -> None:
    """Print the address, then serve until interrupted (Ctrl+C)."""
    args = parse_args(argv)
    port = args.port or free_port(args.host)
    os.environ.update(offline_environment(args.lessons))
    from solara.__main__ import cli

    print(
        f"alignment-sim classroom: open http://{args.host}:{port}/ in a browser (Ctrl+C stops it)",
        flush=True,
    )
    cli.main(
        args=[
            "run",
            APP,
            "--host",
            args.host,
            "--port",
            str(port),
            "--production",
            "--no-open",
            "--no-check-version",
        ],
        prog_name="alignment-sim-viz",
    )


if __name__ == "__main__":
    main()
