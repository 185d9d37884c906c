"""Accounts: the bank accounts, credit cards and loans that a link retrieves."""
