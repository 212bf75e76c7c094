"""The record kinds of the alliances' work (to be written)."""
