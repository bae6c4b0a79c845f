"""criminal referrals: the kind of referring body (court, prosecutor, investigator) on court
clients and cases, the criminal case number, what a reconciliation enables in law (legal effect),
and the procedural role of participants (victim, suspect, accused, legal representative).

Revision ID: criminal_referrals
Revises: personal_data_sealed
Create Date: 2026-11-29 21:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'criminal_referrals'
down_revision: Union[str, None] = 'f15a0c1e0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('court_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='court', nullable=False))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referred_by', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('criminal_case_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('legal_effect', sa.JSON(), nullable=True))
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('procedural_role', sa.String(length=30), nullable=True))
    # cases referred before: by a court (the only kind of body there was)
    op.execute("UPDATE cases SET referred_by = 'court' WHERE court_id IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('procedural_role')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('legal_effect')
        batch_op.drop_column('criminal_case_number')
        batch_op.drop_column('referred_by')
    with op.batch_alter_table('court_clients', schema=None) as batch_op:
        batch_op.drop_column('kind')
