"""Running the work: the pipeline, the guarded worker pool, Dask, progress."""
