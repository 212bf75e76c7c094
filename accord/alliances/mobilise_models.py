"""The query tables (projections) of the alliances' mobilise (to be written)."""
