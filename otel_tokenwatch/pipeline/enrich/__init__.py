"""pipeline/enrich."""
