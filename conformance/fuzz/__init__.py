"""The fuzz suite: hostile and broken inputs against serde's public entry points
(``campaign.py``: seeds, mutators, classification; ``python -m conformance.fuzz.campaign``)."""
