"""The classroom game on the local network: a Starlette app over a ``GameSession``.

Pages (plain HTML, CSS and JavaScript in ``static/``, nothing from the internet):
``/`` the teacher's dashboard (``?key=`` the session's teacher key, printed at start),
``/join`` the students' page. JSON:

- students: ``POST /api/join`` {name, state?}, ``POST /api/rejoin`` {token},
  ``GET /api/state?token=&since=V&wait=S``, ``POST /api/submit`` {token, security,
  economy}, ``GET /api/seats`` (the states the join page offers and their teams' room),
  ``GET /api/lesson`` (its title and "For students" text, ``session.lesson_info``);
- teacher (``key`` in the query or the ``X-Teacher-Key`` header):
  ``GET /api/teacher?since=V&wait=S``, ``POST /api/teacher/{pause,resume,advance,end}``,
  ``POST /api/teacher/event`` {kind, targets}, ``POST /api/teacher/suggested`` {id} (drop
  the lesson's suggested event ``id``), ``POST /api/teacher/levers`` {values};
- ``/glossary.css`` (``classroom.glossary.GLOSSARY_CSS``: glossed terms' dotted underline,
  their definitions on tap), ``/map.svg`` (``classroom.mapview.map_svg``, drawn once per
  ``world_version`` and cached), ``/qr.svg`` (the join address, drawn offline by segno),
  ``/debrief`` and ``/export.zip`` (``classroom.debrief``, built in a worker thread once per
  change of the game's world and cached).

**Cheap polling.** Every answer of ``/api/state`` and ``/api/teacher`` carries
``version`` (``GameSession.version_for(state)``, ``GameSession.changes``). A page asks
again with ``since=V``: if nothing changed, the server holds the request until something
does or ``wait`` seconds pass (at most ``HOLD_S``), then answers a few bytes,
``{"unchanged": true, "version": V, "seconds_left": s}``; pages count the seconds down
themselves. A class of 30 thus costs a few requests per student per round instead of one
a second.

Every mistake is a JSON ``{"error": message}`` with a 4xx status, never a trace; a round
closes within about half a second of being due (a background thread calls
``GameSession.tick_if_due``).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import inspect
import io
import json
import logging
import math
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from alignment_sim.classroom.game.session import GameError, GameSession
from alignment_sim.classroom.glossary import GLOSSARY_CSS
from alignment_sim.errors import ConfigError

STATIC = Path(__file__).parent / "static"
TICK_INTERVAL_S = 0.5
"""How often the background thread checks whether the round is due, seconds."""
HOUSEKEEPING_S = 0.5
"""How often uvicorn checks whether to stop (its default, 0.1 s, costs an idle game CPU)."""
HOLD_S = 20.0
"""Longest a ``since=V`` request is held waiting for a change, seconds."""
TOKEN_COOKIE = "alignment_sim_seat"
MAX_BODY = 10_000
"""Largest request body accepted, bytes (a choice is a few dozen)."""
log = logging.getLogger(__name__)


def lan_address(host: str) -> str:
    """The address students type: ``host`` itself unless it listens everywhere
    (0.0.0.0, ::, ''); then this machine's LAN address, found without sending anything
    (the host name's addresses from the resolver, else the route a UDP socket would take:
    connecting a UDP socket sends no packet); 127.0.0.1 if there is none."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    with contextlib.suppress(OSError):
        for address in socket.gethostbyname_ex(socket.gethostname())[2]:
            if not address.startswith("127."):
                return address
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("10.255.255.255", 1))
        address = str(probe.getsockname()[0])
        if not address.startswith(("127.", "0.")):
            return address
    return "127.0.0.1"


def error(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object, or GameError with a message for the page."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise GameError("That request is too large.", status=413)
    if not body:
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise GameError("The page sent something unreadable; reload it.") from None
    if not isinstance(data, dict):
        raise GameError("The page sent something unreadable; reload it.")
    return data


def text_field(data: dict[str, Any], key: str, required: bool = True) -> Any:
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise GameError(f"Missing or unreadable field '{key}'.")
    return value


def poll_params(request: Request) -> tuple[int | None, float]:
    """``since`` (a version, or None) and ``wait`` (seconds, 0 to ``HOLD_S``) of a poll."""
    since, wait = request.query_params.get("since"), request.query_params.get("wait", "0")
    try:
        version = None if since in (None, "") else int(since)
        seconds = float(wait)
    except ValueError:
        raise GameError("The page asked with an unreadable version; reload it.") from None
    if not math.isfinite(seconds):
        seconds = 0.0
    return version, min(max(seconds, 0.0), HOLD_S)


class Changes:
    """Wakes the requests waiting for a change of the game: ``notify(state)`` (from
    ``GameSession.listeners``, any thread) wakes the waiters of that state's team and the
    teacher's (``TEACHER``); ``notify(None)`` (the world changed) wakes every waiter.
    ``wait`` runs on the server's event loop."""

    TEACHER = "\0teacher"

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.events: dict[str, asyncio.Event] = {}
        self.stopping = False

    def start(self) -> None:
        self.loop = asyncio.get_running_loop()

    def notify(self, state: str | None = None) -> None:
        if self.loop is not None and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self.loop.call_soon_threadsafe(self._fire, state)

    def stop(self) -> None:
        self.stopping = True
        self.notify(None)

    def _fire(self, state: str | None) -> None:
        keys = list(self.events) if state is None else [state, self.TEACHER]
        for key in keys:
            event = self.events.pop(key, None)
            if event is not None:
                event.set()

    async def wait(self, key: str, unchanged: Callable[[], bool], seconds: float) -> None:
        """Return when ``unchanged()`` turns false, after ``seconds``, or at shutdown;
        ``key``: a state (its team's page) or ``TEACHER``."""
        deadline = time.monotonic() + seconds
        while self.loop is not None and not self.stopping and unchanged():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            event = self.events.setdefault(key, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), left)


class MapCache:
    """The map's SVG, drawn once per ``GameSession.world_version`` (votes do not change it)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.drawn: dict[tuple[Any, ...], str] = {}

    def get(self, session: GameSession, selected: str | None, large: bool) -> str:
        with session.lock:
            key = (session.world_version, session.model.tick, selected, large)
        with self.lock:
            if key not in self.drawn:
                if len(self.drawn) > 64:
                    self.drawn.clear()
                with session.lock:
                    self.drawn[key] = draw_map(session, selected, large)
            return self.drawn[key]


def draw_map(session: GameSession, selected: str | None, large: bool) -> str:
    """``classroom.mapview.map_svg`` of the session's model now."""
    from alignment_sim.classroom.mapview import map_svg

    return str(map_svg(session.model, selected=selected or "", large=large))


class DebriefCache:
    """The game's debrief (``classroom.debrief.Debrief``), its page and its zip, built
    once per change of the world (a build takes about 2 s: call from a worker thread; the
    model is held for the tables only, about a third of it)."""

    def __init__(self, session: GameSession) -> None:
        self.session = session
        self.lock = threading.Lock()
        self.key: int | None = None
        self.debrief: Any = None
        self.page = ""
        self.zip = b""

    def _current(self) -> Any:
        """The debrief of the game now (under ``self.lock``)."""
        from alignment_sim.classroom.debrief import Debrief

        session = self.session
        with session.lock:
            key = session.world_version
            if key == self.key:
                return self.debrief
            if not session.plays:
                raise GameError("Play at least one round first: the debrief has nothing yet.")
            frames = (
                session.plays_frame(),
                session.events_frame(),
                session.levers_frame(),
                session.votes_frame(),
            )
            model = session.model
            model.lock.acquire()  # the model waits for the tables; the session does not
        try:
            plays, events, levers, votes = frames
            try:
                built, charts = Debrief.without_charts(model, plays, events, levers, votes)
            except ConfigError as exc:  # the logs contradict the run: a bug, said plainly
                log.exception("game server: the debrief could not be built")
                raise GameError(f"The debrief could not be built: {exc}", status=500) from None
        finally:
            model.lock.release()
        self.debrief = built.with_charts(charts)  # drawn while the game goes on
        self.key, self.page, self.zip = key, "", b""
        return self.debrief

    def current(self) -> Any:
        """The debrief of the game now (a GameError before any round is played)."""
        with self.lock:
            return self._current()

    def html(self, zip_href: str) -> str:
        from alignment_sim.classroom.debrief import debrief_html

        with self.lock:
            debrief = self._current()
            if not self.page:
                self.page = debrief_html(debrief, zip_href=zip_href)
            return self.page

    def zip_bytes(self) -> bytes:
        from alignment_sim.classroom.debrief import export_zip

        with self.lock:
            debrief = self._current()
            if not self.zip:
                self.zip = export_zip(debrief)
            return self.zip


def qr_svg(text: str) -> str:
    """A QR code of ``text`` as SVG (segno, offline)."""
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=8, border=2, xmldecl=False)
    return out.getvalue().decode()


DEBRIEF_ERROR = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Debrief</title><link rel="stylesheet" href="/static/game.css"></head><body><main>
<div class="msg">{message}</div><p><a href="/?key={key}">Back to the game</a></p>
</main></body></html>"""


def build_app(session: GameSession, join_url: str = "") -> Starlette:
    """The game's web app over ``session``; ``join_url`` is what the QR code says."""
    maps = MapCache()
    debriefs = DebriefCache(session)
    changes = Changes()
    session.listeners.append(changes.notify)
    if join_url:
        session.join_url = join_url

    def teacher(request: Request) -> None:
        key = request.query_params.get("key") or request.headers.get("x-teacher-key", "")
        if not secrets.compare_digest(key, session.teacher_key):
            raise GameError(
                "This is the teacher's page: open the address the game printed.", status=403
            )

    def guarded(handler: Callable[..., Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            try:
                result = await handler(request)
            except GameError as exc:
                return error(exc.message, exc.status)
            except Exception:  # a bug must not show a trace to a student
                log.exception("game server: %s %s", request.method, request.url.path)
                return error("Something went wrong on the teacher's computer; try again.", 500)
            if isinstance(result, Response):
                return result
            return JSONResponse(result)

        return endpoint

    def token_of(request: Request, data: dict[str, Any]) -> str:
        token = data.get("token") or request.query_params.get("token")
        token = token or request.cookies.get(TOKEN_COOKIE)
        if not isinstance(token, str) or not token:
            raise GameError("Join the game first.", status=404)
        return token

    def seat_json(seat: Any) -> dict[str, Any]:
        return {"token": seat.token, "state": seat.state, "label": seat.label, "name": seat.name}

    def with_cookie(payload: dict[str, Any], token: str) -> JSONResponse:
        response = JSONResponse(payload)
        response.set_cookie(TOKEN_COOKIE, token, max_age=12 * 3600, samesite="strict")
        return response

    def unchanged(version: int) -> dict[str, Any]:
        return {"unchanged": True, "version": version, "seconds_left": session.seconds_left()}

    async def join(request: Request) -> Response:
        data = await read_json(request)
        seat = session.join(text_field(data, "name"), text_field(data, "state", required=False))
        return with_cookie(seat_json(seat), seat.token)

    async def rejoin(request: Request) -> Response:
        data = await read_json(request)
        seat = session.rejoin(token_of(request, data))
        return with_cookie(seat_json(seat), seat.token)

    async def seats(request: Request) -> dict[str, Any]:
        with session.lock:
            return {
                "closed": session.closed,
                "team_size": session.team_size,
                "all_states": session.all_states,
                "states": session.join_choices(),
            }

    async def lesson(request: Request) -> dict[str, Any]:
        return session.info

    async def situation(request: Request) -> dict[str, Any]:
        seat = session.rejoin(token_of(request, {}))
        since, wait = poll_params(request)
        if since is not None:
            if wait:
                await changes.wait(
                    seat.state, lambda: session.version_for(seat.state) == since, wait
                )
            if session.version_for(seat.state) == since:
                return unchanged(since)
        return session.situation(seat.token)

    async def submit(request: Request) -> dict[str, Any]:
        data = await read_json(request)
        answer = session.submit(
            token_of(request, data), text_field(data, "security"), text_field(data, "economy")
        )
        session.tick_if_due()
        return answer

    async def teacher_view(request: Request) -> dict[str, Any]:
        teacher(request)
        since, wait = poll_params(request)
        if since is not None:
            if wait:
                await changes.wait(changes.TEACHER, lambda: session.changes == since, wait)
            if session.changes == since:
                return unchanged(since)
        view = session.teacher_view()
        view["join_url"] = session.join_url
        return view

    def teacher_action(action: str) -> Callable[[Request], Any]:
        async def run(request: Request) -> dict[str, Any]:
            teacher(request)
            data = await read_json(request)
            if action == "pause":
                session.pause()
            elif action == "resume":
                session.resume()
            elif action == "advance":
                session.advance()
            elif action == "end":
                session.end()
            elif action == "event":
                targets = data.get("targets") or []
                if isinstance(targets, str):
                    targets = [t for t in targets.split(",") if t.strip()]
                if not isinstance(targets, list):
                    raise GameError("Targets must be a list of state names.")
                session.drop_event(text_field(data, "kind"), targets)
            elif action == "suggested":
                session.drop_suggested(data.get("id", -1))
            elif action == "levers":
                values = data.get("values")
                if not isinstance(values, dict):
                    raise GameError("Give the levers as {name: value}.")
                session.set_levers(values)
            return {"ok": True, "changes": session.changes}

        return run

    async def map_svg(request: Request) -> Response:
        selected = request.query_params.get("state") or None
        if selected is not None and selected not in session.model.world.states:
            raise GameError(f"No state called '{selected[:40]}'.")
        large = request.query_params.get("large", "") in ("1", "true")
        svg = maps.get(session, selected, large)
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})

    async def glossary_css(request: Request) -> Response:
        return Response(GLOSSARY_CSS, media_type="text/css")

    async def qr(request: Request) -> Response:
        address = session.join_url or f"{request.base_url}join"
        return Response(qr_svg(address), media_type="image/svg+xml")

    async def teacher_page(request: Request) -> Response:
        key = request.query_params.get("key", "")
        if not secrets.compare_digest(key, session.teacher_key):
            return RedirectResponse("/join", status_code=303)
        return FileResponse(STATIC / "teacher.html", headers={"Cache-Control": "no-store"})

    async def student_page(request: Request) -> Response:
        return FileResponse(STATIC / "student.html", headers={"Cache-Control": "no-store"})

    async def debrief(request: Request) -> Response:
        teacher(request)
        key = session.teacher_key
        try:
            page = await run_in_threadpool(debriefs.html, f"/export.zip?key={key}")
        except GameError as exc:
            body = DEBRIEF_ERROR.format(message=html.escape(exc.message), key=key)
            return HTMLResponse(body, status_code=exc.status)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})

    async def export(request: Request) -> Response:
        teacher(request)
        data = await run_in_threadpool(debriefs.zip_bytes)
        return Response(
            data,
            media_type="application/zip",
            headers={
                "Content-Disposition": 'attachment; filename="alignment-sim-game.zip"',
                "Cache-Control": "no-store",
            },
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        changes.start()
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(TICK_INTERVAL_S):
                try:
                    session.tick_if_due()
                except Exception:  # keep the game going; the log has the trace
                    log.exception("game server: closing a round failed")

        def warm() -> None:  # the first map places its labels (about a second)
            with contextlib.suppress(Exception):
                maps.get(session, None, True)

        thread = threading.Thread(target=loop, name="game-clock", daemon=True)
        thread.start()
        threading.Thread(target=warm, name="game-map", daemon=True).start()
        app.state.changes = changes
        yield
        changes.stop()
        stop.set()
        thread.join(timeout=5)

    routes = [
        Route("/", guarded(teacher_page)),
        Route("/join", guarded(student_page)),
        Route("/api/join", guarded(join), methods=["POST"]),
        Route("/api/rejoin", guarded(rejoin), methods=["POST"]),
        Route("/api/seats", guarded(seats)),
        Route("/api/lesson", guarded(lesson)),
        Route("/api/state", guarded(situation)),
        Route("/api/submit", guarded(submit), methods=["POST"]),
        Route("/api/teacher", guarded(teacher_view)),
        *[
            Route(f"/api/teacher/{action}", guarded(teacher_action(action)), methods=["POST"])
            for action in ("pause", "resume", "advance", "end", "event", "suggested", "levers")
        ],
        Route("/map.svg", guarded(map_svg)),
        Route("/qr.svg", guarded(qr)),
        Route("/glossary.css", guarded(glossary_css)),
        Route("/debrief", guarded(debrief)),
        Route("/export.zip", guarded(export)),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        return error("There is no such page in this game.", 404)

    async def wrong_method(request: Request, exc: Exception) -> Response:
        return error("The page asked in a way this game does not answer.", 405)

    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: wrong_method},
    )
    app.state.changes = changes
    return app


def server_class() -> type[Any]:
    """uvicorn's ``Server`` with its housekeeping (the Date header, the exit flag) every
    ``HOUSEKEEPING_S`` rather than every 0.1 s, which takes a third off an idle game's CPU
    (``benchmarks/classroom_load.py``). The override replaces uvicorn's ``main_loop``, a
    loop over ``await self.on_tick(counter)`` (uvicorn 0.54); with a uvicorn whose
    ``on_tick`` is not that coroutine of ``counter``, uvicorn's own ``Server`` serves
    unchanged (``tests/test_game.py`` checks that the override is in force)."""
    import uvicorn

    on_tick = getattr(uvicorn.Server, "on_tick", None)
    if not (
        inspect.iscoroutinefunction(on_tick)
        and list(inspect.signature(on_tick).parameters) == ["self", "counter"]
    ):
        return uvicorn.Server

    class GameServer(uvicorn.Server):
        """uvicorn's server with housekeeping every ``HOUSEKEEPING_S``."""

        async def main_loop(self) -> None:
            counter = 0
            should_exit = await self.on_tick(counter)
            while not should_exit:
                counter = (counter + 10) % 864000  # a multiple of 10: refresh the Date header
                await asyncio.sleep(HOUSEKEEPING_S)
                should_exit = await self.on_tick(counter)

    return GameServer


def start_game_server(
    session: GameSession, host: str = "127.0.0.1", port: int = 0
) -> tuple[str, Callable[[], None]]:
    """Serve ``session`` with uvicorn in a background thread: (the teacher's address,
    a function that stops the server). ``port`` 0 picks a free port. The join address
    (``session.join_url``) uses this machine's LAN address when ``host`` listens
    everywhere (``lan_address``)."""
    import uvicorn

    app = build_app(session)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
    server = server_class()(config)
    thread = threading.Thread(target=server.run, name="game-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise OSError(f"the game server could not listen on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    join_url = f"http://{lan_address(host)}:{bound}/join"
    session.join_url = join_url

    def stop() -> None:
        app.state.changes.stop()  # held polls answer now, so the server can close
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://{shown}:{bound}/?key={session.teacher_key}", stop
