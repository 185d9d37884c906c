"""Institutions: the catalogue of banks, fiscal and employment sources a link can connect to."""
