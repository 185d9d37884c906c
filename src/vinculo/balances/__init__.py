"""Balances: the end-of-day balance of a link's checking and savings accounts."""
