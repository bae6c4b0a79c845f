"""bilingual agreement language (kk-ru)

Revision ID: b7e3c1d2a9f0
Revises: case_reference_on_case_refs
Create Date: 2026-11-29 21:40:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'b7e3c1d2a9f0'
down_revision: Union[str, None] = 'case_reference_on_case_refs'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('agreements') as batch:
        batch.alter_column('language', existing_type=sa.String(length=2), type_=sa.String(length=5),
                           existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('agreements') as batch:
        batch.alter_column('language', existing_type=sa.String(length=5), type_=sa.String(length=2),
                           existing_nullable=False)
