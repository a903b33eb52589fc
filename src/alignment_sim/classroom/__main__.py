"""``alignment-sim-viz [--port N]``: serve the classroom app on localhost.

Runs Solara's server on ``alignment_sim.classroom.app`` in production mode, fully offline: the
front end comes from the ``solara-assets`` package (Solara's local copy of its CDN files),
and nothing is fetched from or reported to the internet (no telemetry, no version check,
no CDN fallback), so it works in a classroom without a network.
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import sys
import threading
import time
import warnings
from pathlib import Path

from alignment_sim.classroom.classroom import LESSONS_ENV, add_lessons_option, lessons_option
from alignment_sim.outputs.files import CommandParser

APP = "alignment_sim.classroom.app"
DEFAULT_PORT = 8765
OFFLINE_CDN = "http://127.0.0.1:9/"
"""Where Solara's server would fetch a front-end file missing from its local copy: an
address that refuses at once, so a missing file fails fast instead of leaving the machine."""


VIZ_MODULES = ("solara", "solara_assets", "ipyvuetify", "altair", "networkx", "markdown")
"""What the ``viz`` extra installs and the app imports."""
INSTALL_HINT = "pip install 'alignment-sim[viz]' (or: make viz)"
WAIT_FOR_SERVER_S = 120.0
KERNEL_CULL_TIMEOUT = "2m"
"""How long a closed tab's session (its model, a run still playing) lives on: Solara's
default, 24 hours, keeps every closed tab's model in memory and playing."""
HOST_ENV = "ALIGNMENT_SIM_HOST"
"""Where the app tells its page the address it listens on (the class game serves there)."""
COOKIE_WARNING = "Cookies with samesite=none require https"
"""Solara warns on every page load served on a plain address over http (not "localhost"):
the session cookie then falls back to samesite=lax, which is what a classroom server on
its own network wants (the app is never embedded in another site's frame)."""


class ServeError(Exception):
    """The app cannot be served as asked; the message is one line for the user."""


def check_viz_extra() -> None:
    """Raise ServeError naming the install command when the ``viz`` extra is missing."""
    for name in VIZ_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            raise ServeError(
                f"the classroom needs the viz extra ({name} is missing): {INSTALL_HINT}"
            ) from None


def check_address(host: str, port: int) -> None:
    """Raise ServeError unless a server could listen on ``host``:``port`` now.

    Binds and releases the port with the options the server (uvicorn) uses, so a port in
    use or a host that is not an address of this machine fails here, in one line.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        raise ServeError(f"--host {host}: not an address to listen on ({exc.strerror})") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise ServeError(
                f"cannot listen on {host}:{port} ({exc.strerror}); "
                "choose another --port (0: any free port) or --host"
            ) from None


def accepts_connections(host: str, port: int) -> bool:
    """Whether something listens on ``host``:``port`` (0.0.0.0 and :: are tried locally)."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    try:
        with socket.create_connection((target, port), timeout=1):
            return True
    except OSError:
        return False


def announce_when_listening(host: str, port: int, timeout: float = WAIT_FOR_SERVER_S) -> None:
    """Print the address to open once the server accepts connections (never before)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if accepts_connections(host, port):
            print(
                f"alignment-sim classroom: open http://{host}:{port}/ in a browser "
                "(Ctrl+C stops it)",
                flush=True,
            )
            return
        time.sleep(0.05)


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
        "SOLARA_KERNEL_CULL_TIMEOUT": KERNEL_CULL_TIMEOUT,
    }
    settings = {key: os.environ.get(key, value) for key, value in values.items()}
    if lessons is not None:  # the command's --lessons wins over the environment's
        settings[LESSONS_ENV] = str(lessons.resolve())
    return settings


def free_port(host: str) -> int:
    """A port the OS reports free on ``host`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = CommandParser(
        prog="alignment-sim-viz",
        description="Serve the alignment-sim classroom app (a Solara page) locally.",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)"
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    add_lessons_option(parser)
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port {args.port}: expected a port number in [0, 65535]")
    lessons_option(parser, args.lessons)  # refused before serving
    return args


def main(argv: list[str] | None = None) -> None:
    """Serve until interrupted (Ctrl+C), printing the address once the server listens.

    A missing ``viz`` extra, a port in use or a host that cannot be listened on ends the
    command with one line on stderr and exit status 2.
    """
    args = parse_args(argv)
    try:
        check_viz_extra()
        check_address(args.host, args.port)
        port = args.port or free_port(args.host)
    except ServeError as exc:
        print(f"alignment-sim-viz: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    # the app runs in this process: the environment tells it how to serve (set only now,
    # so that a refused command leaves no trace in its caller's environment)
    os.environ.update(offline_environment(args.lessons))
    os.environ[HOST_ENV] = args.host
    warnings.filterwarnings("ignore", message=COOKIE_WARNING, category=UserWarning)
    from solara.__main__ import cli

    threading.Thread(target=announce_when_listening, args=(args.host, port), daemon=True).start()
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
