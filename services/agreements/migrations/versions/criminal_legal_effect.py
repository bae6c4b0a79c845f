"""criminal referrals: which kind of body referred a case and what a reconciliation enables in
law (legal effect, e.g. Criminal Code Art. 68), told to the referring body with the outcome.

Revision ID: criminal_legal_effect
Revises: 101f3f028f1c
Create Date: 2026-11-29 21:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'criminal_legal_effect'
down_revision: Union[str, None] = '101f3f028f1c'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('case_refs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referred_by', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('legal_effect', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_refs', schema=None) as batch_op:
        batch_op.drop_column('legal_effect')
        batch_op.drop_column('referred_by')
