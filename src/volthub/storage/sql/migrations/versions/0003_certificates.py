"""Certificates: the built-in CA's answer to each CSR and the station's CertificateSigned answer

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def _columns() -> list[sa.Column[Any]]:
    return [
        sa.Column('status', sa.String(length=16), nullable=True),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('certificate_chain', sa.Text(), nullable=True),
        sa.Column('serial_number', sa.String(length=64), nullable=True),
        sa.Column('valid_from', sa.DateTime(timezone=True), nullable=True),
        sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
        sa.Column('delivery_status', sa.String(length=255), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    ]


def upgrade() -> None:
    with op.batch_alter_table('certificate_requests') as batch:
        for column in _columns():
            batch.add_column(column)
    op.create_index('ix_certificate_requests_station', 'certificate_requests',
                    ['station_id', 'id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_certificate_requests_station', table_name='certificate_requests')
    with op.batch_alter_table('certificate_requests') as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)
