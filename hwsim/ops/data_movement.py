"""Placeholder: op family data_movement (filled in by its owner)."""
