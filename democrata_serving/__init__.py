"""FastAPI serving layer: reads the index through democrata_core, never imports Dagster."""
