"""Placeholder: op family reduce (filled in by its owner)."""
