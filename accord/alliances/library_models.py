"""The query tables (projections) of the alliances' library (to be written)."""
