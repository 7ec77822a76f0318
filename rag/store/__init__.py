"""The on-disk index: generations and their pointer, the manifest, Chroma vectors and BM25."""
