"""who a representative, interpreter or support person is with, in the recipient directory
(``Participant.acts_for`` of ``MediationAgreed``): a signature reminder for a party's own slot
reaches that party and its representatives, not every party of the side; issue 12

Revision ID: recipients_acting_for
Revises: case_reference_in_directory
Create Date: 2026-11-30 02:20:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'recipients_acting_for'
down_revision: Union[str, None] = 'case_reference_in_directory'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acts_for', sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('recipients', schema=None) as batch_op:
        batch_op.drop_column('acts_for')
