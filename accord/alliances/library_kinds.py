"""The record kinds of the alliances' library (to be written)."""
