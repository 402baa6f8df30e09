"""Placeholder: op family quantize (filled in by its owner)."""
