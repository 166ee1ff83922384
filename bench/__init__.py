"""Benchmarks: shopmail measured against the raw SMTP ceiling of the same machine (`make bench`)."""
