"""A deterministic demo province: generated people and units, and loading them."""
