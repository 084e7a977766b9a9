"""Inputs -> events: files, directories, archives and exports; the engines; per-file accounting."""
