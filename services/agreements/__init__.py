"""Agreements: drafting, signing, encrypted storage, the audit chain and the court API."""
