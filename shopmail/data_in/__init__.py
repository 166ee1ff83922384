"""Data in: the JSON API, the CSV import, API tokens and the record schema both share."""
