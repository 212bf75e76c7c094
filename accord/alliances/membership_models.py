"""The query tables (projections) of the alliances' membership (to be written)."""
