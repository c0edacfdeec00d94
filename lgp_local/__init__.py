"""The local stack of lgp: what `make dev`, the tests and the benchmarks run on this machine."""
