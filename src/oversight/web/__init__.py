"""The web application: public portal at ``/``, staff console, and the REST API under ``/api/v1``."""
