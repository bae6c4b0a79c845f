"""Intake: case filing, invitations and consent, eligibility and safety screening, the mediator
register and assignment. This skeleton files and refers cases and runs the court client register."""
