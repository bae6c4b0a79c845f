"""the parties of a case on case_refs (participant id and side, from ``MediationAgreed``): an
agreement's signer slots are per party (``claimant:<participant id>``); agreements requested
before keep their side slots (``claimant``, ``respondent``); issue 12

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


def downgrade() -> None:
    with op.batch_alter_table('case_refs', schema=None) as batch_op:
        batch_op.drop_column('parties')
