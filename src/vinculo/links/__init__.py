"""Links: an end user's login at an institution, with its MFA sessions and credentials."""
