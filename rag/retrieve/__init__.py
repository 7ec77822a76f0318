"""Retrieval: hybrid dense + BM25 search, source filters and follow-up query rewriting."""
