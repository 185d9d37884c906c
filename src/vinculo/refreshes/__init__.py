"""Background refreshes of links: historical updates, recurrent refreshes and their webhooks."""
