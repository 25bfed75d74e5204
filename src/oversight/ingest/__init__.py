"""Ingestion: contract files in, typed warehouse tables and a quarantine out."""

from .loader import BatchReport, Rejection, TableCount, ingest

__all__ = ["BatchReport", "Rejection", "TableCount", "ingest"]
