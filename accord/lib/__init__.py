"""Pure-Python helpers. Nothing in this package may import Django."""
