"""Agreements: drafting, signing, encrypted storage, the audit chain and the court API.
This skeleton tracks which court referred which case, the scope of the court API."""
