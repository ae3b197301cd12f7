"""pipeline/score."""
