"""The REST API (``/api/v1``): shared dependencies, error answers, and the router of every domain."""
