"""Events -> meaning: text fields, operations, collection, diagnosis, timeline, explain, diff."""
