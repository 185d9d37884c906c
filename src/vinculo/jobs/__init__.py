"""Background jobs on Procrastinate: the queue that services send to, and what runs it."""
