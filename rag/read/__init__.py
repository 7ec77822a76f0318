"""The extractive answerer: the reader model, its windows and spans, the answer it quotes."""
