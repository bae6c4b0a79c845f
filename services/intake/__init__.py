"""Intake: case filing and court referral, invitations and consent, eligibility and safety
screening, the mediator register and assignment, the agreement to mediate and the term of
mediation. ``api`` holds the routes; each hands over to the domain module of its use case."""
