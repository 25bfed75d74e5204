"""Monthly reports per region: xlsx and PDF (issue 8)."""
