"""The warehouse: contract data and derived tables, read through Ibis."""

from .connection import SYSTEM_TABLES, Warehouse, WarehouseError, open_warehouse

__all__ = ["SYSTEM_TABLES", "Warehouse", "WarehouseError", "open_warehouse"]
