"""Survey pages (filled in below)."""
