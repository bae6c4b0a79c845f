"""a link of one's own: an access link may name the participant it signs in (a co-party, a
representative or an interpreter reached by their own link, not the side's first party); and
consent is per party: one consent per participant of a case, no longer one per side; issue 12

Revision ID: participant_links
Revises: access_links_reach
Create Date: 2026-11-30 00:50:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'participant_links'
down_revision: Union[str, None] = 'access_links_reach'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('access_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('participant_id', sa.String(length=36), nullable=True))
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_constraint('uq_consents_case_side', type_='unique')
        batch_op.create_unique_constraint('uq_consents_case_participant', ['case_id', 'participant_id'])


def downgrade() -> None:
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_constraint('uq_consents_case_participant', type_='unique')
        batch_op.create_unique_constraint('uq_consents_case_side', ['case_id', 'side'])
    with op.batch_alter_table('access_links', schema=None) as batch_op:
        batch_op.drop_column('participant_id')
