"""Background jobs: the queue they travel through and the workers that run them."""
