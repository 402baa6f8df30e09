"""Configuration: pydantic models of devices, economics and scenarios, and the YAML loader."""
