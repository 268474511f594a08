"""Batches: the items file checked, a batch followed, its folder fetched, its outcome and report."""
