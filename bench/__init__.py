"""Benchmarks of the platform (not timed tests): run them as modules, e.g. ``python -m bench.event_pipeline``."""
