"""The reference: the seed's single-Lambda loop (SEEDS.md, S1), re-implemented for the bench only."""
