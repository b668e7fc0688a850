"""Benchmarks run by hand (docs/benchmarks.md); never imported by the application."""
