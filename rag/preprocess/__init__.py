"""Raw text to cleaned text and chunks: cleaning, PDF page cleaning, chunking into exact slices."""
