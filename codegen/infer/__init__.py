"""Stage 2, infer: what every value is (a number, a list, an array of which rank and
shape), which names share storage, and the shape errors that are certain."""
