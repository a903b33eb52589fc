"""The classroom app in a real browser: Debian's Chromium driven by Playwright.

Starts ``python -m alignment_sim.classroom`` on a free localhost port and drives the page as a
teacher would: it loads (the app's own controls, no Mesa furniture), a picked lesson
applies at once, a step moves the tick and the chart, a lever reaches the model, a click
on a state of the map opens its "why" panel (in students' words, with the glossary),
Pause lets no tick in, the Info tab holds the teacher's notes, bad input shows a message,
not a trace, and a phone gets the map and the controls (presentation mode by URL).
Every request the page makes to anything but localhost is blocked and counted: the app
must work without a network. Without Chromium or Playwright the browser test skips,
except under CI (``CI=true``), where that is a failure.

The screenshot goes to ``results/screenshots/classroom.png``; with
``ALIGNMENT_SIM_UPDATE_SCREENSHOT=1`` it is also copied to ``docs/img/app.png``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import ROOT

LESSONS = ROOT / "experiments" / "lessons"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
START_TIMEOUT_S = 90
WAIT_MS = 30_000
LOCAL = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:", "about:")


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str) -> None:
    """Skip where the browser stack is absent, but fail under CI, which must have it."""
    if under_ci():
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def guard_offline(page: Any, blocked: list[str], failures: list[str]) -> None:
    """Let ``page`` reach this machine only (``LOCAL``): every other request is aborted and
    recorded in ``blocked``; page errors go to ``failures``."""

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(LOCAL):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: failures.append(f"page error: {error}"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by its own command in a subprocess; stopped at the end."""
    try:
        import solara  # noqa: F401
    except ImportError:
        skip_or_fail("the viz extra (solara) is not installed")
    port = free_port()
    log = tmp_path_factory.mktemp("viz") / "server.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "alignment_sim.classroom", "--port", str(port)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer in {START_TIMEOUT_S} s:\n{log.read_text()}")
            time.sleep(0.3)
        assert f"open {url}" in log.read_text(), "the command prints the address"
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def test_page_loads_its_code_from_the_server_only(server: str) -> None:
    with urllib.request.urlopen(server, timeout=10) as response:
        html = response.read().decode()
    assets = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    assets += re.findall(r"<link[^>]*\bhref=\"([^\"]+)\"", html)
    assert assets, "the page loads scripts and styles"
    remote = [a for a in assets if re.match(r"^(https?:)?//", a)]
    assert not remote, f"assets from outside the machine: {remote}"
    assert "solara.dev/static/public/success" not in html, "no call home"


@pytest.mark.slow  # about a minute of a real browser: CI runs it with the slow checks
def test_classroom_in_chromium(server: str) -> None:
    if not CHROMIUM.exists():
        skip_or_fail(f"no browser at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed")

    from alignment_sim.classroom.classroom import LEVERS, Setup, build_config, get_value

    lesson = build_config(Setup(lesson="credibility_of_patrons", lessons_dir=str(LESSONS)))
    credibility = get_value(lesson, LEVERS["russia_credibility"].key)
    blocked: list[str] = []
    failures: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(WAIT_MS)
            guard_offline(page, blocked, failures)
            page.on(
                "response",
                lambda r: failures.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None,
            )

            def shown(selector: str, text: str, timeout: int = WAIT_MS) -> None:
                page.locator(selector, has_text=text).first.wait_for(timeout=timeout)

            def step() -> None:
                page.get_by_role("button", name="Step").click()

            page.goto(server)
            shown(".as-tick", "Quarter 0 of 40", timeout=90_000)
            expect(page.locator(".as-map-svg svg, .as-map img").first).to_be_visible()
            for furniture in ("PAGE 0", "Render Interval", "Use Threads"):
                expect(page.get_by_text(furniture)).to_have_count(0)

            page.get_by_label("Lesson (applies at once)").click(force=True)
            page.locator(".v-menu__content .v-list-item", has_text="credibility of patrons").click()
            shown(".as-lesson", "The credibility of patrons")  # at once: no Reset
            lesson_card = page.locator(".as-lesson")
            expect(lesson_card).to_contain_text("Questions")
            expect(lesson_card).to_contain_text("russia_recession")
            expect(lesson_card).to_contain_text(f"Russia's credibility: {credibility:g}")

            chart = page.locator(".as-shares img")
            before = chart.get_attribute("src")
            step()
            shown(".as-tick", "Quarter 1 of 40: 2015 Q2")
            # the tick's label can update before the chart's image: wait for the new image
            expect(chart).not_to_have_attribute("src", before or "")

            lever = page.locator(".as-lever-russia_credibility")
            expect(lever).to_contain_text(f"Russia's credibility: {credibility:g}")
            expect(lever).to_contain_text("promises states believe")  # its help text
            lever.get_by_role("slider").focus()
            page.keyboard.press("ArrowLeft")
            lower = LEVERS["russia_credibility"].snap(credibility - 0.01)
            shown(".as-lever-russia_credibility", f"Russia's credibility: {lower:g}")

            step()
            shown(".as-tick", "Quarter 2 of 40")
            assert "run=" in page.url, "the address names the run"
            page.reload()  # the same run, lesson and lever, where they were
            shown(".as-tick", "Quarter 2 of 40", timeout=90_000)
            shown(".as-lesson", "The credibility of patrons")
            shown(".as-lever-russia_credibility", f"Russia's credibility: {lower:g}")
            state = page.locator('.as-map-svg text[data-state="kyrgyzstan"]')
            if state.count():
                state.first.click()  # the map itself (here: the state's name) selects it
            else:
                page.locator(".as-state-kyrgyzstan").click()
            shown(".as-why", "Why Kyrgyzstan?")
            why = page.locator(".as-why")
            expect(why).to_contain_text("(profile ")
            expect(why).to_contain_text("Security: ")
            expect(why).to_contain_text("Economy: ")
            expect(page.locator(".as-why-security")).to_contain_text("protection (security)")
            expect(page.locator(".as-why-economy")).to_contain_text("remittances (economic)")
            expect(page.locator(".as-why img")).to_be_visible()
            assert "utility" not in why.inner_text(), "students read scores"
            term = why.locator("abbr.as-term", has_text="score").first
            assert "utility" in (term.get_attribute("title") or ""), "the glossary explains"
            expect(page.locator(".as-state-kyrgyzstan")).to_have_class(re.compile("selected"))
            # the state buttons' text: at least 4.5:1 on their fill (WCAG AA)
            for label, text in (("russia", "rgb(255, 255, 255)"), ("hedge", "rgb(77, 77, 77)")):
                button = page.locator(f".as-state.as-label-{label}").first
                assert button.evaluate("b => getComputedStyle(b).color") == text, label
            shot = ROOT / "results" / "screenshots" / "classroom.png"
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot))
            if os.environ.get("ALIGNMENT_SIM_UPDATE_SCREENSHOT") == "1":
                shutil.copyfile(shot, ROOT / "docs" / "img" / "app.png")

            page.locator(".as-play").click()
            shown(".as-tick", "Quarter 3 of 40", timeout=60_000)
            page.locator(".as-pause").click()
            page.locator(".as-play").wait_for()
            paused = page.locator(".as-tick").inner_text()
            page.wait_for_timeout(2_000)
            assert page.locator(".as-tick").inner_text() == paused, "no tick after Pause"

            page.get_by_role("tab", name="Info").click()
            expect(page.locator(".as-info")).not_to_contain_text("For the teacher")
            page.locator(".as-reveal", has_text="teacher").click()
            shown(".as-info", "For the teacher")
            expect(page.locator(".as-info img")).to_be_visible()  # the 50-run figure
            alt = page.locator(".as-info img").get_attribute("alt") or ""
            assert alt.startswith("Label shares, each choice and where each state ends"), alt
            page.get_by_role("tab", name="Run").click()

            seed = page.get_by_label("Seed (whole number)")
            seed.fill("twelve")
            shown(".as-pending", "Press Reset")
            page.locator(".as-reset").click()
            shown(".as-message", "seed = 'twelve': expected a whole number")
            assert "Traceback" not in page.locator("body").inner_text()
            seed.fill("3")
            page.locator(".as-reset").click()
            shown(".as-lever-russia_credibility", f"Russia's credibility: {credibility:g}")
            expect(page.locator(".as-message")).to_have_count(0)
            shown(".as-tick", "Quarter 0 of 40")

            phone = browser.new_page(viewport={"width": 390, "height": 844})
            guard_offline(phone, blocked, failures)
            phone.goto(server + "?present=1")
            phone.locator(".as-tick", has_text="Quarter 0").first.wait_for(timeout=90_000)
            expect(phone.locator(".as-present")).to_have_count(1)
            expect(phone.locator(".as-setup")).to_have_count(0)
            picture = phone.locator(".as-map-svg svg, .as-map img").first
            box = picture.bounding_box()
            assert box is not None and box["width"] > 300, "the map fills the phone's width"
            assert phone.locator(".as-step").bounding_box()["y"] < 844, "Step is on screen"
            phone.locator(".as-step").click()
            phone.locator(".as-tick", has_text="Quarter 1").first.wait_for()

            # a lesson that does not exist is named in red, not passed over in silence
            wrong = browser.new_page(viewport={"width": 1500, "height": 1100})
            guard_offline(wrong, blocked, failures)
            wrong.goto(server + "?lesson=no_such_lesson")
            message = wrong.locator(".as-message", has_text="lesson = 'no_such_lesson'")
            message.first.wait_for(timeout=90_000)
        finally:
            browser.close()
    assert not blocked, f"the page tried to reach the network: {blocked}"
    assert not failures, failures
