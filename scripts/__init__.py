"""Command-line helpers: set-up, data rebuilds, benchmarks."""
