"""Placeholder: op family pool (filled in by its owner)."""
