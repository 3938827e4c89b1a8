"""WTForms classes: they declare fields and validate input, nothing else."""
