"""The attack suite: what held and what was fixed, against a live hub."""
