"""Placeholder: op family attention (filled in by its owner)."""
