"""Transactions: the movements of a link's accounts, each with its account embedded."""
