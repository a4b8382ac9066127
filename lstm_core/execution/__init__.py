"""Execution: where training runs: in-process background jobs (and studies) and the Dask cluster."""
