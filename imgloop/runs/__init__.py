"""Runs: start, follow and fetch executions, describe their progress, upload an edit's images, write a run's report."""
