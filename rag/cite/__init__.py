"""Citations: ``[n]`` markers made safe, and the checker that ties answer sentences to passages."""
