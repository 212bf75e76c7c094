"""The query tables (projections) of the alliances' roster (to be written)."""
