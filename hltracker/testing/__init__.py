"""Support for the test suite and the benchmark scripts: a throwaway PostgreSQL server."""
