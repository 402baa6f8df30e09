"""Run chunks of points: in this process, in a local process pool, or on a Dask cluster.

All three call the same :func:`hwsim.scenario.compute.compute_chunk` and return chunk results
in submission order, so the rows — and the files written from them — are identical.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor

from hwsim.errors import ConfigError
from hwsim.scenario.compute import RunContext, compute_chunk

_CTX: RunContext | None = None


def _init(ctx: RunContext) -> None:
    global _CTX
    _CTX = ctx


def _run(indices: list[int]) -> tuple[list[dict], dict]:
    assert _CTX is not None
    return compute_chunk(_CTX, indices)


def run_chunks(ctx: RunContext, chunks: list[list[int]], executor: str, workers: int | None,
               scheduler: str | None) -> Iterator[tuple[int, tuple[list[dict], dict]]]:
    """Yield (chunk index, result) in chunk order."""
    if executor == "dask":
        yield from _dask(ctx, chunks, workers, scheduler)
    elif workers == 1 or len(chunks) <= 1:
        for i, c in enumerate(chunks):
            yield i, compute_chunk(ctx, c)
    else:
        with ProcessPoolExecutor(max_workers=workers, initializer=_init, initargs=(ctx,)) as pool:
            yield from enumerate(pool.map(_run, chunks))


def _dask(ctx: RunContext, chunks: list[list[int]], workers: int | None, scheduler: str | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ConfigError("--executor dask needs dask[distributed]: pip install 'hwsim[dask]'") from None
    cluster = None if scheduler else LocalCluster(n_workers=workers or 2, threads_per_worker=1,
                                                  processes=True, dashboard_address=None)
    client = Client(scheduler or cluster)
    try:
        shared = client.scatter(ctx, broadcast=True)
        futures = [client.submit(compute_chunk, shared, c, pure=False) for c in chunks]
        for i, f in enumerate(futures):
            yield i, f.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

