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
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import dask
from distributed import Client, LocalCluster

WORKER_ENVIRONMENT = {"MALLOC_TRIM_THRESHOLD_": None}


@contextmanager
def local_cluster(workers: int = 2) -> Iterator[Client]:
    """A Dask cluster of ``workers`` single-threaded processes on this machine."""
    with (
        dask.config.set(
            {
                "distributed.nanny.pre-spawn-environ": WORKER_ENVIRONMENT,
                "distributed.worker.daemon": False,
            }
        ),
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextmanager
def connect(address: str | None, workers: int) -> Iterator[Client]:
    """A client to ``address`` (a running scheduler), or to a fresh local cluster."""
    if address:
        with Client(address) as client:
            yield client
    else:
        with local_cluster(workers) as client:
            yield client


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
