"""Dagster-free domain shared by the pipeline and the serving layer.

Nothing in here imports dagster or fastapi: the serving image installs this package and the
index contract stays the same on both sides.
"""
