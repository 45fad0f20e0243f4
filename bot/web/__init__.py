"""HTTP entry point: webhook intake, health, metrics (and feature pages)."""
