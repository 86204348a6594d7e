"""The offline teacher: a built-in model for demos and fast tests, no endpoint needed.

It answers the built-in generators' problems (`sources/`) step by step, wrong at a configured
rate, and writes tests when asked (`model_tests.py`); it sits above the sources it reads and
below the model clients (`models/`), which offer it as `model.backend: offline`.
"""

from verified_factory.teacher.offline import OfflineTeacher, built_in_problems

__all__ = ["OfflineTeacher", "built_in_problems"]
