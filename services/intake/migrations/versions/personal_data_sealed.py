"""personal data sealed at rest: participants' names, IIN/BIN, organisations, contact details,
group members and accessibility, and cases' descriptions, sealed with the ``intake-personal`` KEK;
keyed hashes of IIN/BIN and email for lookups; screening answers and personal data may be
crypto-shredded (``wrapped_key`` NULL, ``cases.shredded_at``).

Existing rows are sealed here, with the keys of the settings in the environment (the ones
``odr migrate intake`` or the starting service reads: ``ODR_KEK_KEYRING``...); a database without
rows needs no key. The plaintext columns are then dropped. What dropping cannot reach: PostgreSQL
keeps the old row versions until ``VACUUM FULL participants, cases`` (run it after upgrading), a
SQLite file keeps freed pages until ``VACUUM``, and backups taken before the upgrade still hold the
plaintext: rotate them out.

Revision ID: personal_data_sealed
Revises: 75ea20416b7e
Create Date: 2026-11-29 18:30:00
"""
import json
from types import SimpleNamespace
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import shared.db


revision: str = 'personal_data_sealed'
down_revision: Union[str, None] = '75ea20416b7e'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

SEALED = ('ciphertext', 'wrapped_key', 'kek_id', 'kek_version')
PLAIN = ('name', 'id_number', 'organisation', 'accessibility', 'contact', 'members')

participants = sa.table(
    'participants', sa.column('id', sa.String), sa.column('case_id', sa.String),
    *(sa.column(c, sa.String) for c in ('name', 'id_number', 'organisation')),
    *(sa.column(c, sa.JSON) for c in ('accessibility', 'contact', 'members')),
    sa.column('ciphertext', sa.LargeBinary), sa.column('wrapped_key', sa.LargeBinary), sa.column('kek_id', sa.String),
    sa.column('kek_version', sa.Integer), sa.column('id_number_hash', sa.String), sa.column('email_hash', sa.String))
cases = sa.table(
    'cases', sa.column('id', sa.String), sa.column('description', sa.Text), sa.column('ciphertext', sa.LargeBinary),
    sa.column('wrapped_key', sa.LargeBinary), sa.column('kek_id', sa.String), sa.column('kek_version', sa.Integer))


def _sealed_columns(nullable: bool) -> list[sa.Column]:
    return [sa.Column('ciphertext', sa.LargeBinary(), nullable=nullable),
            sa.Column('wrapped_key', sa.LargeBinary(), nullable=True),
            sa.Column('kek_id', sa.String(length=60), nullable=nullable),
            sa.Column('kek_version', sa.Integer(), nullable=nullable)]


def _vault():
    """The personal-data vault over the environment's keys (only asked for when rows exist)."""
    from services.intake import personal
    from shared.config import Settings
    from shared.crypto import create_keyring

    settings = Settings()
    return personal.Vault(create_keyring(settings.resolved_kek_keyring, *personal.KEYS, create=settings.dev_mode))


def _has_rows(bind) -> bool:
    return any(bind.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() for t in (participants, cases))


def _seal_existing(bind) -> None:
    if not _has_rows(bind):
        return
    from services.intake import personal

    vault = _vault()
    for row in bind.execute(sa.select(participants)).mappings().all():
        target = SimpleNamespace(id=row['id'], case_id=row['case_id'])
        personal.seal(vault, target, personal.PersonalDetails(
            name=row['name'], id_number=row['id_number'], organisation=row['organisation'],
            contact=row['contact'] or {}, members=row['members'] or [], accessibility=row['accessibility'] or {}))
        bind.execute(participants.update().where(participants.c.id == row['id']).values(
            **target.sealed.columns(), id_number_hash=target.id_number_hash, email_hash=target.email_hash))
    for row in bind.execute(sa.select(cases.c.id, cases.c.description)).all():
        target = SimpleNamespace(id=row.id)
        personal.seal_description(vault, target, row.description or '')
        bind.execute(cases.update().where(cases.c.id == row.id).values(**target.sealed.columns()))


def upgrade() -> None:
    with op.batch_alter_table('participants', schema=None) as batch_op:
        for column in _sealed_columns(nullable=True):
            batch_op.add_column(column)
        batch_op.add_column(sa.Column('id_number_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('email_hash', sa.String(length=64), nullable=True))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        for column in _sealed_columns(nullable=True):
            batch_op.add_column(column)
        batch_op.add_column(sa.Column('shredded_at', shared.db.UTCDateTime(timezone=True), nullable=True))

    _seal_existing(op.get_bind())

    with op.batch_alter_table('participants', schema=None) as batch_op:
        for name in PLAIN:
            batch_op.drop_column(name)
        for column in ('ciphertext', 'kek_id', 'kek_version'):
            batch_op.alter_column(column, nullable=False)
        batch_op.create_index(batch_op.f('ix_participants_id_number_hash'), ['id_number_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_participants_email_hash'), ['email_hash'], unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('description')
        for column in ('ciphertext', 'kek_id', 'kek_version'):
            batch_op.alter_column(column, nullable=False)
    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.alter_column('wrapped_key', existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    """Back to plaintext columns, opened with the same keys; shredded values come back empty."""
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('id_number', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('organisation', sa.String(length=300), nullable=True))
        for name in ('accessibility', 'contact', 'members'):
            batch_op.add_column(sa.Column(name, sa.JSON(), nullable=True))
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('description', sa.Text(), nullable=True))

    bind = op.get_bind()
    if _has_rows(bind):
        from services.intake import personal

        vault = _vault()
        for row in bind.execute(sa.select(participants)).all():
            details = personal.PersonalDetails()
            if row.wrapped_key is not None:
                details = personal.PersonalDetails(**json.loads(vault.open(
                    SimpleNamespace(**row._mapping), aad=personal.participant_aad(row.case_id, row.id))))
            bind.execute(participants.update().where(participants.c.id == row.id).values(
                name=details.name, id_number=details.id_number, organisation=details.organisation,
                contact=details.contact, members=details.members, accessibility=details.accessibility))
        for row in bind.execute(sa.select(cases)).all():
            text = '' if row.wrapped_key is None else vault.open(
                SimpleNamespace(**row._mapping), aad=personal.description_aad(row.id)).decode()
            bind.execute(cases.update().where(cases.c.id == row.id).values(description=text))
    bind.execute(participants.update().where(participants.c.accessibility.is_(None)).values(
        accessibility={}, contact={}, members=[]))
    bind.execute(cases.update().where(cases.c.description.is_(None)).values(description=''))

    with op.batch_alter_table('screenings', schema=None) as batch_op:
        batch_op.alter_column('wrapped_key', existing_type=sa.LargeBinary(), nullable=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('description', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('shredded_at')
        for name in SEALED:
            batch_op.drop_column(name)
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participants_email_hash'))
        batch_op.drop_index(batch_op.f('ix_participants_id_number_hash'))
        for name in ('accessibility', 'contact', 'members'):
            batch_op.alter_column(name, existing_type=sa.JSON(), nullable=False)
        for name in (*SEALED, 'id_number_hash', 'email_hash'):
            batch_op.drop_column(name)
