"""Rule modules by concern. Each module defines `Rule`s; policies/registry.py lists them all."""
