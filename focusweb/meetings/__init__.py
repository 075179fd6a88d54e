"""The focus meeting the seller runs from a phone: one account card at a time, autosaved."""
