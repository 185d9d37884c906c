"""Secrets: API key digests, the credential vault and the master key."""
