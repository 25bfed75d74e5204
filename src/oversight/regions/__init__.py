"""Regions (行政区划): the tree every user, warning and permission hangs from."""
