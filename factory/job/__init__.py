"""A job (`factory generate`): the driver that streams units through the stages, the Ray
actors and pools it runs on, the run directory it writes, and its metrics.

`generate.py` is the entry; `driver.py` the stages' order (source -> solve -> verify -> curate ->
commit); `actors.py` and `verifier_pool.py` all the Ray plumbing (placement, restarts,
deadlines); `run_store.py` the run directory's format, written and read there alone.
"""
