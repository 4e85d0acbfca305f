"""Decoding of untrusted compressed bytes: what each stream declares, and the bounds
every decoder in the process is held to."""
