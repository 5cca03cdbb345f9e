"""Grids of runs on Dask (``python -m brian_stdp.sweep``)."""
