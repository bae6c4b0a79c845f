"""sittings and availability: the mediator's proposed slots, the parties' answers and unavailable
dates, the fixed sitting and its invitation sequence (issue 15)

Revision ID: f15a0c1e0001
Revises: personal_data_sealed
Create Date: 2026-11-29 21:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import shared.db


revision: str = 'f15a0c1e0001'
down_revision: Union[str, None] = 'personal_data_sealed'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('sittings',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('starts_at', shared.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('proposed_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sittings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sittings_case_id'), ['case_id'], unique=False)

    op.create_table('sitting_slots',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sitting_id', sa.String(length=36), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('starts_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sitting_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sitting_slots_sitting_id'), ['sitting_id'], unique=False)

    op.create_table('sitting_answers',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sitting_id', sa.String(length=36), nullable=False),
    sa.Column('slot_id', sa.String(length=36), nullable=False),
    sa.Column('side', sa.String(length=20), nullable=False),
    sa.Column('availability', sa.String(length=20), nullable=False),
    sa.Column('answered_by', sa.String(length=100), nullable=False),
    sa.Column('answered_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slot_id', 'side', name='uq_sitting_answer_slot_side')
    )
    with op.batch_alter_table('sitting_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sitting_answers_sitting_id'), ['sitting_id'], unique=False)

    op.create_table('unavailable_dates',
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('side', sa.String(length=20), nullable=False),
    sa.Column('on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', shared.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('case_id', 'side', 'on')
    )


def downgrade() -> None:
    op.drop_table('unavailable_dates')
    with op.batch_alter_table('sitting_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sitting_answers_sitting_id'))
    op.drop_table('sitting_answers')
    with op.batch_alter_table('sitting_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sitting_slots_sitting_id'))
    op.drop_table('sitting_slots')
    with op.batch_alter_table('sittings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sittings_case_id'))
    op.drop_table('sittings')
