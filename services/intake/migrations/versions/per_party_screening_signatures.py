"""every party answers for itself: one safety screening per party (no longer one per side), with
who answered it (the party, or a legal entity's representative); the agreement to mediate is
signed in a slot per party (``<side>:<participant id>``, as the settlement agreement's), so a
side's earlier signature becomes its first party's; issue 12

Revision ID: per_party_screening_signatures
Revises: participant_links
Create Date: 2026-11-30 02:10:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'per_party_screening_signatures'
down_revision: Union[str, None] = 'participant_links'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

FIRST_PARTY = ("(SELECT p.id FROM participants p WHERE p.case_id = agreement_signatures.case_id "
               "AND p.side = agreement_signatures.signer AND p.role = 'party' ORDER BY p.position LIMIT 1)")


def upgrade() -> None:
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_by', sa.String(length=20), nullable=True))
        batch_op.drop_constraint('uq_screenings_case_side', type_='unique')
        batch_op.create_unique_constraint('uq_screenings_case_participant', ['case_id', 'participant_id'])
    with op.batch_alter_table('agreement_signatures', schema=None) as batch_op:
        batch_op.alter_column('signer', existing_type=sa.String(length=20), type_=sa.String(length=60))
    op.execute(f"UPDATE agreement_signatures SET signer = signer || ':' || {FIRST_PARTY} "
               f"WHERE signer <> 'mediator' AND {FIRST_PARTY} IS NOT NULL")


def _first_party(table: str, side: str) -> str:
    return (f"(SELECT p.id FROM participants p WHERE p.case_id = {table}.case_id AND p.side = '{side}' "
            "AND p.role = 'party' ORDER BY p.position LIMIT 1)")


def downgrade() -> None:
    # one per side again: the co-parties' screenings and signatures go (lossy, as one per side was)
    for side in ('claimant', 'respondent'):
        op.execute(f"DELETE FROM agreement_signatures WHERE signer LIKE '{side}:%' "
                   f"AND signer <> '{side}:' || {_first_party('agreement_signatures', side)}")
        op.execute(f"UPDATE agreement_signatures SET signer = '{side}' WHERE signer LIKE '{side}:%'")
        op.execute(f"DELETE FROM screenings WHERE side = '{side}' "
                   f"AND participant_id <> {_first_party('screenings', side)}")
    with op.batch_alter_table('agreement_signatures', schema=None) as batch_op:
        batch_op.alter_column('signer', existing_type=sa.String(length=60), type_=sa.String(length=20))
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.drop_constraint('uq_screenings_case_participant', type_='unique')
        batch_op.create_unique_constraint('uq_screenings_case_side', ['case_id', 'side'])
        batch_op.drop_column('answered_by')
