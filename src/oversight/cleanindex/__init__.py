"""清廉指数 (clean index): configuration, computation, explanation, pages and open data."""
