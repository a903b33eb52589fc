"""Running chunks of runs on a Dask cluster: for designs too big for one machine.

Why Dask: its scheduler runs on a laptop (``LocalCluster``) and on a cluster (SLURM via
dask-jobqueue, or any ``dask scheduler`` address) with the same code, and it coexists
with the Hydra launchers this package uses; the Hydra Ray launcher pins cloudpickle < 3,
which current Dask refuses, so Ray would need a separate environment. Each chunk is a
pure function of (inputs, seeds), so the cluster's size and scheduling order change no
number.

Dask's nanny sets ``MALLOC_TRIM_THRESHOLD_`` in its workers, which makes this kind of
numpy code (many ~100 kB temporaries) about three times slower; ``local_cluster``
removes it before the workers start.

Dask and distributed are an optional extra (``pip install 'alignment-sim[cluster]'``):
they are imported when a Dask backend is asked for, never on import of the package.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Any

from alignment_sim.errors import ConfigError

if TYPE_CHECKING:
    from distributed import Client

WORKER_ENVIRONMENT = {"MALLOC_TRIM_THRESHOLD_": None}
CONNECT_TIMEOUT_S = 5.0
"""How long to wait for the scheduler at ``engine.dask_address`` before giving up."""


def _dask_modules() -> tuple[ModuleType, ModuleType]:
    """``dask`` and ``distributed``, or a ConfigError naming the extra that provides them."""
    try:
        import dask
        import distributed
    except ImportError as exc:
        raise ConfigError(
            "engine.backend",
            "dask",
            "the cluster extra installed",
            f"Install it with: pip install 'alignment-sim[cluster]' ({exc}).",
        ) from None
    return dask, distributed


@contextmanager
def local_cluster(workers: int = 2) -> Iterator[Client]:
    """A Dask cluster of ``workers`` single-threaded processes on this machine."""
    dask, distributed = _dask_modules()
    with (
        dask.config.set(
            {
                "distributed.nanny.pre-spawn-environ": WORKER_ENVIRONMENT,
                "distributed.worker.daemon": False,
            }
        ),
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@contextmanager
def connect(address: str | None, workers: int) -> Iterator[Client]:
    """A client to ``address`` (a running scheduler), or to a fresh local cluster.

    An address that answers no scheduler within ``CONNECT_TIMEOUT_S`` is a ConfigError.
    """
    if address:
        _, distributed = _dask_modules()
        try:  # a bare connection first: a failed Client leaves a noisy finaliser behind
            asyncio.run(_probe(distributed, address))
        except Exception as exc:  # any failure to reach a scheduler is the address's fault
            raise ConfigError(
                "engine.dask_address",
                address,
                "the address of a running Dask scheduler (e.g. tcp://host:8786)",
                f"None answered within {CONNECT_TIMEOUT_S:g} s "
                f"({type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:120]}).",
            ) from None
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S)
        with client:
            yield client
    else:
        with local_cluster(workers) as client:
            yield client


async def _probe(distributed: ModuleType, address: str) -> None:
    comm = await distributed.comm.connect(address, timeout=CONNECT_TIMEOUT_S)
    await comm.close()


def map_ordered(
    client: Client, function: Callable[..., Any], tasks: Iterable[tuple[Any, ...]]
) -> Iterator[Any]:
    """Submit every task, then yield results in task order as they are ready."""
    futures = [client.submit(function, *args, pure=False) for args in tasks]
    if not futures:
        return
    for future in futures:
        yield future.result()
        future.release()
