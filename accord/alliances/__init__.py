"""The university alliances in medicine, law and agriculture: voluntary membership, the expert roster, mobilisation
to assistance requests, joint work and the shared library (see docs/alliances.md)."""
