"""Ingest: a corpus folder becomes a new index generation (records, stores, uploads)."""
