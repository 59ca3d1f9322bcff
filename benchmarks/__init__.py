"""Benchmarks run by ``make bench``: promwatch side by side with its peers, in one run."""
