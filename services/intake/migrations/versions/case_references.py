"""case references: the human reference of each case (KZ-2026-000123) and the per jurisdiction-year
counters that hand the numbers out (``services.intake.references``).

Existing cases are numbered here in filing order within their jurisdiction and filing year (in
the jurisdiction's time zone), and the counters continue after the highest number given.

Revision ID: case_references
Revises: personal_data_sealed
Create Date: 2026-11-29 21:40:00
"""
from collections import defaultdict
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import shared.db


revision: str = 'case_references'
down_revision: Union[str, None] = 'criminal_referrals'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

cases = sa.table('cases', sa.column('id', sa.String), sa.column('jurisdiction', sa.String),
                 sa.column('filed_at', shared.db.UTCDateTime(timezone=True)), sa.column('reference', sa.String))
counters = sa.table('case_reference_counters', sa.column('jurisdiction', sa.String), sa.column('year', sa.Integer),
                    sa.column('last_number', sa.Integer))


def _time_zone(jurisdiction: str) -> str:
    from services.intake import eligibility

    try:
        return eligibility.current(jurisdiction).time_zone
    except Exception:  # a jurisdiction whose rule set is gone: its cases keep the UTC year
        return "UTC"


def upgrade() -> None:
    from services.intake.references import filing_year, format_reference

    op.create_table('case_reference_counters',
    sa.Column('jurisdiction', sa.String(length=8), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('jurisdiction', 'year')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference', sa.String(length=30), nullable=True))
        batch_op.create_unique_constraint('uq_cases_reference', ['reference'])

    bind = op.get_bind()
    last: dict[tuple[str, int], int] = defaultdict(int)
    zones: dict[str, str] = {}
    rows = bind.execute(sa.select(cases.c.id, cases.c.jurisdiction, cases.c.filed_at)
                        .order_by(cases.c.filed_at, cases.c.id)).all()
    for case_id, jurisdiction, filed_at in rows:
        zone = zones.setdefault(jurisdiction, _time_zone(jurisdiction))
        key = (jurisdiction, filing_year(filed_at, zone))
        last[key] += 1
        bind.execute(sa.update(cases).where(cases.c.id == case_id).values(
            reference=format_reference(jurisdiction=key[0], year=key[1], number=last[key])))
    if last:
        bind.execute(sa.insert(counters), [{"jurisdiction": j, "year": y, "last_number": n} for (j, y), n in last.items()])


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint('uq_cases_reference', type_='unique')
        batch_op.drop_column('reference')
    op.drop_table('case_reference_counters')
