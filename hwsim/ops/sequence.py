"""Placeholder: op family sequence (filled in by its owner)."""
