"""The batched engine: the same kernels over (run, state, option) arrays, in chunks,
on processes or Dask.
"""
