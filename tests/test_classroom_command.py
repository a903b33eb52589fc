"""``alignment-sim-viz``: a clear one-line error instead of a traceback or a wrong address."""

from __future__ import annotations

import socket
import sys
import threading

import pytest

from alignment_sim.classroom import __main__ as command


@pytest.fixture
def quiet_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Solara settings the command exports, undone after the test."""
    for key, value in command.offline_environment(None).items():
        monkeypatch.setenv(key, value)


def refused(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    """Run the command, expect exit status 2, return its one line on stderr."""
    with pytest.raises(SystemExit) as stopped:
        command.main(argv)
    assert stopped.value.code == 2
    out, err = capsys.readouterr()
    assert "open http" not in out, "no address is printed when nothing will listen there"
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.usefixtures("quiet_environment")
def test_missing_viz_extra_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "solara", None)  # as if the extra were not installed
    line = refused(capsys, ["--port", "0"])
    assert "pip install 'alignment-sim[viz]'" in line and "make viz" in line
    assert "solara" in line


@pytest.mark.usefixtures("quiet_environment")
def test_busy_port_is_refused_before_any_address_is_printed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        line = refused(capsys, ["--port", str(port)])
    assert f"127.0.0.1:{port}" in line and "--port" in line


@pytest.mark.usefixtures("quiet_environment")
@pytest.mark.parametrize("host", ["999.1.1.1", "example.invalid"])
def test_bad_host_is_refused_in_one_line(host: str, capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(capsys, ["--host", host, "--port", "0"])
    assert f"--host {host}" in line


def test_address_is_announced_only_once_the_server_listens(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        announcer = threading.Thread(
            target=command.announce_when_listening, args=("127.0.0.1", port, 30.0)
        )
        announcer.start()
        announcer.join(timeout=0.5)
        assert announcer.is_alive() and capsys.readouterr().out == ""  # bound, not listening
        server.listen()
        announcer.join(timeout=10)
    assert not announcer.is_alive()
    assert f"open http://127.0.0.1:{port}/" in capsys.readouterr().out
