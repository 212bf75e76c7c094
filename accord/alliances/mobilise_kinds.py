"""The record kinds of the alliances' mobilise (to be written)."""
