"""Solving: the prompts, the requests for samples, hints (STaR) and tests, and the reading of
each reply before any verifier sees it."""
