"""Placeholder: op family misc (filled in by its owner)."""
