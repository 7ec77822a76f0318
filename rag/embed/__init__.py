"""Sentence embeddings: the packaged model, its two runtimes and the vector cache."""
