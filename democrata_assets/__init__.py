"""The Dagster code location: one asset chain per source, built by a factory from its connector."""
