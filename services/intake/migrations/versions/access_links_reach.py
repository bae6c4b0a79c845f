"""access links that reach people: an address's sign-in link opens every case of the email's keyed
hash (``email_hash``), and an invitation keeps its token sealed for notifications
(``sealed_link``) so the platform can send it later ("send it for me"); issue 12

Revision ID: access_links_reach
Revises: personal_data_sealed
Create Date: 2026-11-29 21:50:00
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = 'access_links_reach'
down_revision: Union[str, None] = 'case_references'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table('access_links', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sealed_link', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('access_links', schema=None) as batch_op:
        batch_op.drop_column('sealed_link')
        batch_op.drop_column('email_hash')
