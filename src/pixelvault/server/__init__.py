"""HTTP server: FastAPI routes per API family; thin over the services."""
