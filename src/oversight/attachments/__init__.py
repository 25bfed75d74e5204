"""Evidence files: content-addressed by sha256, size- and type-checked by their bytes."""
