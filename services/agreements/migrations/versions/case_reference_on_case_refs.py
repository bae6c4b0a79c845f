"""case reference on case_refs: the human reference intake gives each case (``CaseFiled.reference``),
shown on the agreement PDF, the court's case list and the court feed. Cases agreements heard of
before the events carried it keep NULL (they are shown by id).

Revision ID: case_reference_on_case_refs
Revises: 101f3f028f1c
Create Date: 2026-11-29 21:45:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'case_reference_on_case_refs'
down_revision: Union[str, None] = 'criminal_legal_effect'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('case_refs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_refs', schema=None) as batch_op:
        batch_op.drop_column('reference')
