"""The record kinds of the alliances' roster (to be written)."""
