"""Writing outputs atomically, finishing a job, and telling whether a job is finished.

Every file lands under a unique temporary name in its folder and is renamed into place
(``atomic_write``), so a reader never sees half a file and two processes never share a
temporary name. A job folder is finished when its ``manifest.json`` (written last by
``finish_job``) is readable and every file it lists is there with its recorded size;
``job_status`` is the one place that decides it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import difflib
import hashlib
import io
import json
import os
import secrets
import shlex
import shutil
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import IO, Any, NoReturn

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from alignment_sim.errors import ConfigError
from alignment_sim.model.params import SimulationConfig
from alignment_sim.model.trajectory import Trajectory
from alignment_sim.model.world import quarter
from alignment_sim.outputs.provenance import manifest
from alignment_sim.studies import outcomes

MANIFEST = "manifest.json"
ERROR = "error.json"
LABELS_FILE = "labels.parquet"
"""The yearly record labels (and profiles) of a run or study job
(``studies.outcomes.label_table``)."""
IMPUTED_FILE = "imputed.parquet"
"""The world's imputed values, written only when it has some (``write_imputed``)."""
RUN_FILES = ("trajectory.parquet", "blocs.parquet", LABELS_FILE, "summary.json")
"""A single run's files, written before its manifest (``trajectory.png`` too when plotted,
``imputed.parquet`` when the world has imputed values)."""
STUDY_FILES = ("runs.parquet", "ticks.parquet", "terms.parquet", LABELS_FILE, "aggregate.json")
"""A study job's files, written before its manifest (``imputed.parquet`` too, as above)."""
DESIGN_FILES = ("design.parquet", "sensitivity.csv", "sensitivity.png")
"""A design study's files besides its ``runs/`` parts, written before its manifest."""
JOB_KINDS = {
    "study": ("runs.parquet", "ticks.parquet", "terms.parquet", "aggregate.json"),
    "run": ("trajectory.parquet", "blocs.parquet", "summary.json"),
    "design": DESIGN_FILES,
}
"""Each kind of job folder, told apart by its first file, with the files every version
wrote (what a manifest that lists no files is judged by; older jobs have no labels)."""


@contextmanager
def atomic_write(path: Path, mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a unique temporary file beside ``path``; rename it onto ``path`` when the block
    ends without an exception, delete it otherwise. ``mode`` is "wb" or "w" (UTF-8 text).
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_write mode {mode!r}: expected 'wb' or 'w'")
    target = Path(path)
    temporary = target.with_name(f".{target.name[:180]}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(descriptor, mode, encoding=encoding) as handle:
            yield handle
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextmanager
def atomic_folder(folder: Path) -> Iterator[Path]:
    """Yield a new temporary folder beside ``folder``; when the block ends without an
    exception, rename it onto ``folder`` (an earlier folder there is replaced whole),
    otherwise remove it. A reader never sees a half-written or mixed folder."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".{folder.name[:100]}.{secrets.token_hex(6)}.tmp")
    staging.mkdir()
    try:
        yield staging
        if not folder.exists():
            os.replace(staging, folder)
            return
        old = folder.with_name(f".{folder.name[:100]}.{secrets.token_hex(6)}.old")
        os.replace(folder, old)
        try:
            os.replace(staging, folder)
        except OSError:
            os.replace(old, folder)
            raise
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_write(path) as handle:
        handle.write(data)


def figure_png(figure: Any, dpi: int) -> bytes:
    """A matplotlib figure as PNG bytes at ``dpi`` (the commands' figures, written with
    ``atomic_write_bytes`` or served by the classroom)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def timestamped_folder(kind: str) -> Path:
    """``results/<kind>/<time>_<hex>/`` (a command's default output folder): four random
    hex digits after the time, so that two commands started in the same second (which
    both found the time's folder free) write apart; another if the folder exists."""
    stamp = dt.datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    while True:
        out = Path("results") / kind / f"{stamp}_{secrets.token_hex(2)}"
        if not out.exists():
            return out


def write_json(path: Path, payload: Any) -> None:
    atomic_write_bytes(path, (json.dumps(payload, indent=2, default=str) + "\n").encode())


def write_parquet(path: Path, frame: pd.DataFrame, meta: dict[str, Any]) -> None:
    """Parquet with the run's manifest in the schema metadata (key ``alignment_sim``)."""
    table = pa.Table.from_pandas(frame, preserve_index=False)
    schema_meta = dict(table.schema.metadata or {})
    schema_meta[b"alignment_sim"] = json.dumps(meta, default=str).encode()
    table = table.replace_schema_metadata(schema_meta)
    with atomic_write(path) as handle:
        pq.write_table(table, handle)


def read_manifest(parquet_path: str | Path) -> dict[str, Any]:
    """The manifest embedded in a Parquet file this package wrote."""
    meta = pq.read_schema(parquet_path).metadata or {}
    return dict(json.loads(meta[b"alignment_sim"]))


def os_error_text(exc: OSError) -> str:
    """An OS error in one line: the path and the system's reason, without the temporary
    file's name (the final name is the one the user knows)."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return reason
    name = Path(os.fsdecode(exc.filename))
    parts = name.name.split(".")
    if name.name.startswith(".") and name.name.endswith(".tmp") and len(parts) >= 4:
        name = name.with_name(".".join(parts[1:-2]))
    return f"{name}: {reason}"


def check_parent_folders(out: Path) -> None:
    """Refuse (ConfigError on ``--out``) an output path under a file, or one the command
    could not write: its nearest existing parent must be a folder it may write in (the
    outputs are staged beside ``out`` and renamed), so a long computation never ends in
    a refused write."""
    blocking = next((parent for parent in out.parents if parent.exists()), None)
    if blocking is not None and not blocking.is_dir():
        raise ConfigError(
            "--out", str(out), "a path under a folder", f"{blocking} is a file, not a folder."
        )
    if blocking is not None and not os.access(blocking, os.W_OK | os.X_OK):
        raise ConfigError(
            "--out", str(out), "a path the command may write", f"{blocking} is not writable."
        )


def check_replaceable(out: Path, names: Sequence[str], what: str) -> None:
    """Refuse (ConfigError on ``--out``) an output folder that a command would replace
    whole but should not: a file, a path under a file, or a folder holding anything but
    the ``names`` (file names or glob patterns such as ``figure_*.png``) an earlier
    ``what`` (e.g. "discovery") writes."""
    expected = f"a folder (new, or an earlier {what}'s)"
    if out.is_file():
        raise ConfigError("--out", str(out), expected, "It is a file.")
    check_parent_folders(out)
    if out.is_dir():
        others = sorted(
            p.name for p in out.iterdir() if not any(fnmatchcase(p.name, name) for name in names)
        )
        if others:
            hint = f"It holds {others[0]}, which a {what} does not write."
            raise ConfigError("--out", str(out), expected, hint)


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1: "1 run", "50 runs"."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def command_line(prog: str, argv: Sequence[str] | None = None) -> str:
    """A console command as typed, for its manifest: ``prog`` and its arguments
    (``sys.argv``'s when ``argv`` is None), shell-quoted."""
    return shlex.join([prog, *(sys.argv[1:] if argv is None else argv)])


class CommandParser(argparse.ArgumentParser):
    """The package's console commands' argument parser: an option it does not know is
    named first, with the closest it knows (argparse 3.11 would report only a required
    option as missing, ``--yaer 2000`` as "--year is required"); a mistake is one line,
    as every other refusal of the package is (argparse prints its usage lines first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} ({self.prog} --help lists the options)\n")

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        known = [flag for action in self._actions for flag in action.option_strings]
        for token in sys.argv[1:] if args is None else args:
            if token == "--":
                break
            flag = token.partition("=")[0]
            if flag.startswith("--") and not any(name.startswith(flag) for name in known):
                close = difflib.get_close_matches(flag, known, n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.error(f"unrecognized option {flag}{hint}")
        return super().parse_known_args(args, namespace)


def as_typed(exc: Exception, parser: argparse.ArgumentParser | None) -> str:
    """``exc``'s message as the command line's user reads it: a ConfigError whose key is an
    option's destination (``first_seed``) named by the option (``--first-seed``), so the
    error names what was typed; any other message as it is."""
    if parser is None or not isinstance(exc, ConfigError):
        return str(exc)
    for action in parser._actions:  # argparse keeps no public list of an option's names
        if action.dest == exc.key and action.option_strings:
            return exc.named(action.option_strings[-1])
    return str(exc)


@contextmanager
def command_errors(
    prog: str,
    unwritten: str,
    bad_input: tuple[type[Exception], ...] = (ConfigError,),
    parser: argparse.ArgumentParser | None = None,
) -> Iterator[None]:
    """A console command's failures as one line on stderr, named by ``prog``: bad input
    (``bad_input``) exits 2, naming the option where its key is one of ``parser``'s
    (``as_typed``); an OS error exits 1 and says what was not written (``unwritten``,
    e.g. "nothing was written"); Ctrl+C exits 130, saying so (it was a traceback); a
    size the memory cannot hold exits 1, saying so."""
    try:
        yield
    except KeyboardInterrupt:
        print(f"{prog}: interrupted ({unwritten}).", file=sys.stderr)
        sys.exit(130)
    except MemoryError:  # numpy's _ArrayMemoryError too: a size the machine cannot hold
        print(
            f"{prog}: not enough memory for this size; use a smaller one ({unwritten}).",
            file=sys.stderr,
        )
        sys.exit(1)
    except bad_input as exc:
        print(f"{prog}: {as_typed(exc, parser)}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:
        print(f"{prog}: {os_error_text(exc)} ({unwritten}).", file=sys.stderr)
        sys.exit(1)


def write_imputed(folder: Path, world: object, meta: dict[str, Any]) -> list[str]:
    """Write the world's imputed values (``World.imputed``: year, state, field, value,
    rule) as ``imputed.parquet`` when there are any; returns the names written ([] for a
    static world, which imputes nothing)."""
    imputed = getattr(world, "imputed", None)
    if imputed is None or len(imputed) == 0:
        return []
    write_parquet(folder / IMPUTED_FILE, pd.DataFrame(imputed), meta)
    return [IMPUTED_FILE]


# --- jobs: finishing one, and telling whether one is finished ----------------------------


@dataclass(frozen=True)
class JobStatus:
    """Whether a job folder holds a finished job: ``state`` is "complete", "failed",
    "unfinished", "stale" or "corrupt" (see ``job_status``); ``reason`` says why it is not
    complete (empty when it is)."""

    state: str
    reason: str

    @property
    def complete(self) -> bool:
        return self.state == "complete"


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in blocks (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def finish_job(folder: Path, manifest: dict[str, Any], files: Sequence[str]) -> None:
    """Write ``manifest.json`` last, listing the size (bytes) and SHA-256 of each of
    ``files`` (names relative to ``folder``, already written); a left-over ``error.json``
    of an earlier attempt goes, since the job has now finished."""
    listed = {
        name: {"bytes": (folder / name).stat().st_size, "sha256": sha256(folder / name)}
        for name in files
    }
    write_json(folder / MANIFEST, {**manifest, "files": listed})
    (folder / ERROR).unlink(missing_ok=True)


def record_failure(folder: Path, exc: BaseException, overrides: list[str], trace: str = "") -> None:
    """Leave ``error.json`` in a job's folder, so a sweep goes on and the failure stays on
    record; an earlier run's ``manifest.json`` goes first, so the folder never looks
    finished with results that are not this attempt's."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)
    write_json(
        folder / ERROR,
        {"error": str(exc), "type": type(exc).__name__, "overrides": overrides, "traceback": trace},
    )


def finished_kind(meta: dict[str, Any]) -> str:
    """What a finished folder's manifest says it holds, in words: "a finished fit", "a
    finished design", "a finished comparison", ... (for refusals that name it)."""
    task = meta.get("task") or meta.get("study") or meta.get("kind")
    words = {
        "fit": "fit",
        "forecast": "forecast",
        "validate": "validation",
        "score": "scoring (alignment-sim-score)",
        "compare": "comparison (alignment-sim-compare)",
        "patterns": "pattern table",
        "lesson": "lesson's figures",
        "debrief": "debrief",
    }
    if task in words:
        return f"a finished {words[task]}"
    if "design" in meta:
        return "a finished design"
    config = meta.get("config")
    if isinstance(config, dict) and "replications" in config:
        return "a finished study job" if config.get("replications", 1) > 1 else "a finished run"
    return "another command's finished output"


def job_manifest(folder: Path) -> dict[str, Any]:
    """A job folder's ``manifest.json``; raises ``ValueError`` (with the reason) when it
    cannot be read or does not hold an object."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"manifest.json cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError("manifest.json does not hold an object")
    return data


def _error_reason(path: Path) -> str:
    try:
        error = json.loads(path.read_text(encoding="utf-8"))
        text = f"{error.get('type', 'Error')}: {error.get('error', '')}".strip()
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        text = "error.json (unreadable)"
    return f"job failed ({' '.join(text.split())[:300]})"


def _expected_files(folder: Path, meta: dict[str, Any]) -> dict[str, tuple[int | None, str | None]]:
    """The files a finished job must hold, with their sizes and SHA-256 when the manifest
    lists them (manifests written before ``finish_job`` list none: the files of the
    job's kind)."""
    listed = meta.get("files")
    if isinstance(listed, dict):
        expected: dict[str, tuple[int | None, str | None]] = {}
        for name, entry in listed.items():
            size = entry.get("bytes") if isinstance(entry, dict) else None
            digest = entry.get("sha256") if isinstance(entry, dict) else None
            expected[str(name)] = (
                size if isinstance(size, int) else None,
                digest if isinstance(digest, str) else None,
            )
        return expected
    for files in JOB_KINDS.values():
        if (folder / files[0]).is_file():
            return dict.fromkeys(files, (None, None))
    return {}


def _damage(folder: Path, meta: dict[str, Any], verify: bool = False) -> str:
    """Why the files of a finished-looking job cannot be trusted, or "" when they can;
    ``verify``: each file's SHA-256 against its manifest's too (a damage that keeps a
    file's size; a reader's check, which reads every byte)."""
    expected = _expected_files(folder, meta)
    if not expected:
        kinds = " or ".join(files[0] for files in JOB_KINDS.values())
        return f"manifest.json but none of its tables ({kinds})"
    for name, (size, digest) in expected.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        actual = path.stat().st_size
        if size is not None and actual != size:
            return f"{name} has {actual} bytes, its manifest records {size}"
        if name.endswith(".parquet"):
            try:
                pq.read_metadata(path)
            except (OSError, pa.ArrowException) as exc:
                return f"{name} cannot be read ({' '.join(str(exc).split())[:200]})"
        if verify and digest is not None and sha256(path) != digest:
            return f"{name} differs from its manifest's SHA-256 (changed or damaged)"
    return ""


def job_status(folder: Path, digest: str | None = None, verify: bool = False) -> JobStatus:
    """Is the job in ``folder`` finished? The one definition, for sweeps, resumes,
    ``alignment-sim-collect`` and the comparison report:

    - ``failed``: ``error.json`` and no manifest (or one older than the error);
    - ``unfinished``: no ``manifest.json`` (the job has not ended, or was killed);
    - ``corrupt``: the manifest cannot be read, or a file it lists (or, for an older
      manifest, a file of the job's kind) is missing, of another size, or a Parquet file
      whose footer cannot be read;
    - ``stale``: ``digest`` given and not the manifest's ``config_digest``;
    - ``complete``: none of these.

    ``verify`` (the readers: collect, compare, discover, score): a file whose SHA-256 is
    not its manifest's is corrupt too.
    """
    manifest_path, error_path = folder / MANIFEST, folder / ERROR
    has_manifest = manifest_path.is_file()
    if error_path.is_file() and (
        not has_manifest or error_path.stat().st_mtime_ns >= manifest_path.stat().st_mtime_ns
    ):
        reason = _error_reason(error_path)
        if has_manifest:
            reason += "; its manifest and tables are from an earlier run"
        return JobStatus("failed", reason)
    if not has_manifest:
        return JobStatus("unfinished", "no manifest.json: the job has not finished")
    try:
        meta = job_manifest(folder)
    except ValueError as exc:
        return JobStatus("corrupt", str(exc))
    if digest is not None and meta.get("config_digest") != digest:
        return JobStatus("stale", "finished with another configuration (its config digest differs)")
    damage = _damage(folder, meta, verify)
    if damage:
        return JobStatus("corrupt", damage)
    return JobStatus("complete", "")


@dataclass
class Jobs:
    """The job folders found below a root: the finished ones, and the others with their
    status."""

    done: list[Path] = field(default_factory=list)
    left_out: list[tuple[Path, JobStatus]] = field(default_factory=list)

    def with_state(self, state: str) -> list[Path]:
        return [folder for folder, status in self.left_out if status.state == state]


def _looks_started(folder: Path, names: set[str]) -> bool:
    """A folder with a job's files (or temporary files, or Hydra's) but no manifest."""
    markers = {name for files in JOB_KINDS.values() for name in files}
    started = any(n in markers or (n.startswith(".") and n.endswith(".tmp")) for n in names)
    return started or (folder / ".hydra").is_dir()


def find_jobs(root: Path, started: bool = False, verify: bool = True) -> Jobs:
    """Job folders at or below ``root`` (those with ``manifest.json`` or ``error.json``),
    in sorted order, each judged by ``job_status``; hidden folders are skipped and a job
    folder is not searched further. ``started``: also list, as unfinished, folders that
    hold a job's files but neither file (a run killed before it wrote either).
    ``verify``: each file's SHA-256 checked (``job_status``), as its readers need."""
    jobs = Jobs()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        folder, names = Path(dirpath), set(filenames)
        if MANIFEST in names or ERROR in names:
            status = job_status(folder, verify=verify)
            if status.complete:
                jobs.done.append(folder)
            else:
                jobs.left_out.append((folder, status))
            dirnames[:] = []
        elif started and _looks_started(folder, names):
            jobs.left_out.append(
                (folder, JobStatus("unfinished", "no manifest.json: the run has not finished"))
            )
    return jobs


# --- a single run ----------------------------------------------------------------------


def write_run(
    trajectory: Trajectory,
    config: SimulationConfig,
    out_dir: str | Path,
    run: int = 0,
    plots: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write one run's files into ``out_dir`` and, last, its manifest; returns the folder.
    A model stepped part way writes the ticks it played; the manifest's configuration holds
    the run's own seed, so ``config_from_manifest`` gives the run again."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    trajectory = trajectory.played_part()
    seed = int(trajectory.seeds[run])
    if config.seed != seed:  # a model given its seed beside the config, or a batch's run
        config = replace(config, seed=seed)
    meta = manifest(config, seed, extra)
    write_parquet(folder / "trajectory.parquet", trajectory.trajectory_frame(run), meta)
    write_parquet(folder / "blocs.parquet", trajectory.blocs_frame(run), meta)
    labels = outcomes.world_labels(
        trajectory.alignment[run : run + 1],
        trajectory.seeds[run : run + 1],
        trajectory.world,
        config.region,
    )
    write_parquet(folder / LABELS_FILE, labels, meta)
    write_json(folder / "summary.json", trajectory.summary(run))
    files = [*RUN_FILES, *write_imputed(folder, trajectory.world, meta)]
    if plots:
        from alignment_sim.outputs.plots import plot_run

        plot_run(
            trajectory,
            run,
            folder / "trajectory.png",
            title=f"{config.region.name} / {config.scenario.name} / seed {seed}",
        )
        files.append("trajectory.png")
    finish_job(folder, meta, files)
    return folder


SWITCHES_SHOWN = 20
"""Switches a run's printed summary lists; the rest are counted."""


def summary_text(
    trajectory: Trajectory, folder: Path | None = None, run: int = 0, listed: int | None = None
) -> str:
    """A short readable account: the final shares (record labels and each dimension),
    where each state ended (profile and label), who switched and when, the events in
    force; ``listed``: the events the scenario lists, to say how many fell outside the
    run (dated before or after it) and were left out."""
    trajectory = trajectory.played_part()  # a model stepped part way: its ticks so far
    world = trajectory.world
    summary = trajectory.summary(run)
    lines = [
        f"alignment-sim: {world.region}, {world.quarters_covered(trajectory.ticks)} "
        f"({trajectory.ticks} ticks of {world.tick_months} months), seed {summary['seed']}"
    ]
    shares = ", ".join(f"{o} {v:.0%}" for o, v in summary["final_shares"].items())
    lines.append(f"Final shares by record label: {shares}")
    final = outcomes.share_series(trajectory.alignment[run : run + 1, -1:], world.labelling)
    for dimension in outcomes.DIMENSIONS:
        options = outcomes.dimension_options(world.space, dimension)
        parts = ", ".join(
            f"{o} {final[outcomes.share_name(dimension, o)][0, 0]:.0%}" for o in options
        )
        lines.append(f"  {dimension}: {parts}")
    lines.append("Where each state ended (security/economy, record label):")
    for state, profile in summary["final_alignment"].items():
        start = summary["initial_alignment"][state]
        moved = "" if start == profile else f"   (from {start})"
        lines.append(f"  {state:<14}{profile:<16}{summary['final_labels'][state]}{moved}")
    switches = summary["switches"]
    if switches:
        lines.append(f"Switches ({summary['n_switches']}):")
        for s in switches[:SWITCHES_SHOWN]:  # the quarter from which the new profile holds
            lines.append(
                f"  tick {s['tick']:>3} (from {quarter(s['year'])})  {s['state']}: {s['from']} "
                f"-> {s['to']}"
            )
        if len(switches) > SWITCHES_SHOWN:
            lines.append(
                f"  ... and {len(switches) - SWITCHES_SHOWN} more (every one in summary.json)"
            )
    else:
        lines.append("No state switched.")
    last = summary["time_to_stability"]
    if switches and last >= trajectory.ticks:
        lines.append(f"Still switching at the end (a switch at tick {last}, the last).")
    else:
        lines.append(f"Stable since tick {last}.")
    for event in summary["events"]:
        first = event["first_active_tick"]  # tick t covers the quarter that starts at t - 1
        when = quarter(world.year_of_tick(max(first - 1, 0)))
        lines.append(f"Event: {event['event']} from tick {first} ({when})")
    outside = (listed or 0) - len(trajectory.event_names)
    if outside > 0:
        lines.append(
            f"{counted(outside, 'event')} of the scenario's {listed} fall outside the run "
            f"({summary['start_year']} to the end of tick {trajectory.ticks}) and were left out."
        )
    if folder is not None:
        lines.append(f"Files: {folder}")
    return "\n".join(lines)
