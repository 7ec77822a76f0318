"""Files to text: finding corpus files, decoding them; HTML, PDF, office, e-books, markup."""
