"""Benchmarks: one command per figure, human progress on stderr, one JSON line on stdout."""
