"""Training, evaluation and export code for the `engagement` model (see ../README.md)."""
