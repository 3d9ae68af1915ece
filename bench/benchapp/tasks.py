"""The baseline task of bench/worker_bench.py: what a worker costs per task with no work."""

from __future__ import annotations

from django_tasks import task


@task()
def nothing() -> None:
    """Claimed, run and marked done by the worker, and nothing else."""
