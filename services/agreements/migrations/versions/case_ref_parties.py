"""the parties of a case on case_refs (participant id and side, from ``MediationAgreed``): an
agreement's signer slots are per party (``claimant:<participant id>``, so a signature's slot is
longer); agreements requested before keep their side slots (``claimant``, ``respondent``); issue 12

Revision ID: case_ref_parties
Revises: b7e3c1d2a9f0
Create Date: 2026-11-30 01:00:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'case_ref_parties'
down_revision: Union[str, None] = 'b7e3c1d2a9f0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('case_refs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parties', sa.JSON(), nullable=True))
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.alter_column('slot', existing_type=sa.String(length=20), type_=sa.String(length=60),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.alter_column('slot', existing_type=sa.String(length=60), type_=sa.String(length=20),
                              existing_nullable=False)
    with op.batch_alter_table('case_refs', schema=None) as batch_op:
        batch_op.drop_column('parties')
