"""Use cases, a module per area. They take plain values, never `request`."""
