"""Placeholder: op family normalization (filled in by its owner)."""
