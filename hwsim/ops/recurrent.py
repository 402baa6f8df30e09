"""Placeholder: op family recurrent (filled in by its owner)."""
