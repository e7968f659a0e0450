"""ocpi: partners, push outbox, received objects, roaming authorizations

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'ocpi_partners',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('roles', sa.JSON(), nullable=False),
        sa.Column('versions_url', sa.String(length=512), nullable=True),
        sa.Column('version', sa.String(length=16), nullable=True),
        sa.Column('endpoints', sa.JSON(), nullable=False),
        sa.Column('token_out', sa.String(length=255), nullable=True),
        sa.Column('token_in_sha256', sa.String(length=64), nullable=True),
        sa.Column('sends_plain_token', sa.Boolean(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_partners')),
        sa.UniqueConstraint('token_in_sha256', name=op.f('uq_ocpi_partners_token_in_sha256')),
    )
    op.create_table(
        'ocpi_outbox',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('partner_id', sa.BigInteger(), nullable=False),
        sa.Column('module', sa.String(length=32), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('method', sa.String(length=8), nullable=False),
        sa.Column('path', sa.String(length=1024), nullable=False),
        sa.Column('body', sa.JSON(), nullable=True),
        sa.Column('object_key', sa.String(length=255), nullable=False),
        sa.Column('to_country_code', sa.String(length=2), nullable=True),
        sa.Column('to_party_id', sa.String(length=3), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('failed', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_outbox')),
    )
    op.create_index('ix_ocpi_outbox_pending', 'ocpi_outbox',
                    ['delivered_at', 'failed', 'next_attempt_at'], unique=False)
    op.create_table(
        'ocpi_objects',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('module', sa.String(length=32), nullable=False),
        sa.Column('country_code', sa.String(length=2), nullable=False),
        sa.Column('party_id', sa.String(length=3), nullable=False),
        sa.Column('object_id', sa.String(length=64), nullable=False),
        sa.Column('partner_id', sa.BigInteger(), nullable=True),
        sa.Column('last_updated', sa.DateTime(timezone=True), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_objects')),
        sa.UniqueConstraint('module', 'country_code', 'party_id', 'object_id',
                            name='uq_ocpi_objects_key'),
    )
    op.create_index('ix_ocpi_objects_uid', 'ocpi_objects', ['module', 'object_id'], unique=False)
    op.create_table(
        'ocpi_authorizations',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('uid', sa.String(length=36), nullable=False),
        sa.Column('allowed', sa.String(length=16), nullable=False),
        sa.Column('authorization_reference', sa.String(length=36), nullable=True),
        sa.Column('location_id', sa.String(length=36), nullable=True),
        sa.Column('evse_uid', sa.String(length=36), nullable=True),
        sa.Column('partner_id', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('extra', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ocpi_authorizations')),
    )
    op.create_index('ix_ocpi_authorizations_uid', 'ocpi_authorizations', ['uid', 'created_at'],
                    unique=False)


def downgrade() -> None:
    op.drop_index('ix_ocpi_authorizations_uid', table_name='ocpi_authorizations')
    op.drop_table('ocpi_authorizations')
    op.drop_index('ix_ocpi_objects_uid', table_name='ocpi_objects')
    op.drop_table('ocpi_objects')
    op.drop_index('ix_ocpi_outbox_pending', table_name='ocpi_outbox')
    op.drop_table('ocpi_outbox')
    op.drop_table('ocpi_partners')
