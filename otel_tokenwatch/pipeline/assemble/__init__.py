"""pipeline/assemble."""
