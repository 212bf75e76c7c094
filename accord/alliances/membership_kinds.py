"""The record kinds of the alliances' membership (to be written)."""
