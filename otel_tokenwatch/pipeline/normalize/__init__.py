"""pipeline/normalize."""
