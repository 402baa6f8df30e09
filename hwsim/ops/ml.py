"""Placeholder: op family ml (filled in by its owner)."""
