"""Owners: the people or companies that hold a link's accounts."""
