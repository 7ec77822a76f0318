"""Text as offsets: words and stems, sentences, word pieces, and where an offset is in its file."""
