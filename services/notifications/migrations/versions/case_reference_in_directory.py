"""case reference in the case directory: the human reference intake gives each case
(``CaseFiled.reference``), what notices and emails call the case. Cases heard of before the events
carried it keep NULL (their notices show the start of the id, as before).

Revision ID: case_reference_in_directory
Revises: d3b3fce7509f
Create Date: 2026-11-29 21:50:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'case_reference_in_directory'
down_revision: Union[str, None] = 'd3b3fce7509f'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('case_directory', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=30), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_directory', schema=None) as batch_op:
        batch_op.drop_column('reference')
