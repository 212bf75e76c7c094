"""The query tables (projections) of the alliances' work (to be written)."""
