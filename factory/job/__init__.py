"""A job (`factory generate`): the driver that streams units through the stages, the Ray
cluster they run on, and the job's metrics.

`generate.py` is the entry; `driver.py` the stages' order for each unit (curate -> solve and
verify -> curate -> commit); `cluster/` all the Ray plumbing (the actors, their placement,
restarts and deadlines). The stages themselves live in `sources/`, `solve/`, `curate/` and
`export/`, and the run directory's format in `run_store.py`.
"""
