"""Federation: nodes share signed versions with their peers, pulled through per-peer change feeds."""
