"""Use cases: each public function is one transaction and returns plain data (dicts, lists, dataclasses)."""
