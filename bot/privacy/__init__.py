"""Each member's own data: what is stored about them and where."""
