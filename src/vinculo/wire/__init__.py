"""Belvo wire conventions shared by every resource: errors, pagination, filters, fields."""
