"""baseline schema: every table as of issue 7 (generated from the models, then
the questions <-> answers foreign key cycle split into a later ALTER)

Revision ID: 7a63d63223c0
Revises: 
Create Date: 2026-11-23 14:16:10.104948

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a63d63223c0'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_escalations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('service', sa.String(length=80), nullable=True),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_escalations')),
    sa.UniqueConstraint('reference', name=op.f('uq_analytics_escalations_reference'))
    )
    with op.batch_alter_table('analytics_escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_escalations_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_escalations_service'), ['service'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_escalations_target'), ['target'], unique=False)

    op.create_table('analytics_feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target', sa.String(length=120), nullable=False),
    sa.Column('helpful', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('visitor', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_feedback')),
    sa.UniqueConstraint('visitor', 'target', name='uq_analytics_feedback_visitor_target')
    )
    with op.batch_alter_table('analytics_feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_feedback_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_feedback_target'), ['target'], unique=False)

    op.create_table('analytics_funnel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('funnel', sa.String(length=64), nullable=False),
    sa.Column('step', sa.String(length=12), nullable=False),
    sa.Column('service', sa.String(length=80), nullable=True),
    sa.Column('doc', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_funnel'))
    )
    with op.batch_alter_table('analytics_funnel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_funnel_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_funnel_funnel'), ['funnel'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_funnel_service'), ['service'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_funnel_step'), ['step'], unique=False)

    op.create_table('analytics_searches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('query', sa.String(length=200), nullable=False),
    sa.Column('normalized', sa.String(length=400), nullable=False),
    sa.Column('result_count', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('clicked_doc', sa.String(length=120), nullable=True),
    sa.Column('clicked_rank', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_searches'))
    )
    with op.batch_alter_table('analytics_searches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_searches_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_searches_query'), ['query'], unique=False)

    op.create_table('analytics_skm',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=80), nullable=False),
    sa.Column('u1', sa.SmallInteger(), nullable=False),
    sa.Column('u2', sa.SmallInteger(), nullable=False),
    sa.Column('u3', sa.SmallInteger(), nullable=False),
    sa.Column('u4', sa.SmallInteger(), nullable=False),
    sa.Column('u5', sa.SmallInteger(), nullable=False),
    sa.Column('u6', sa.SmallInteger(), nullable=False),
    sa.Column('u7', sa.SmallInteger(), nullable=False),
    sa.Column('u8', sa.SmallInteger(), nullable=False),
    sa.Column('u9', sa.SmallInteger(), nullable=False),
    sa.Column('comment', sa.String(length=1000), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('u1 BETWEEN 1 AND 4', name=op.f('ck_analytics_skm_skm_u1')),
    sa.CheckConstraint('u2 BETWEEN 1 AND 4', name=op.f('ck_analytics_skm_skm_u2')),
    sa.CheckConstraint('u3 BETWEEN 1 AND 4', name=op.f('ck_analytics_skm_skm_u3')),
    sa.CheckConstraint('u4 BETWEEN 1 AND 4', name=op.f('ck_analytics_skm_skm_u4')),
    sa.CheckConstraint('u5 BETWEEN 1 AND 4', name=op.f('ck_analytics_skm_skm_u5')),
    sa.CheckConstraint('u6 BETWEEN 1 AND 4', name=op.f('ck_analytics_skm_skm_u6')),
    sa.CheckConstraint('u7 BETWEEN 1 AND 4', name=op.f('ck_analytics_skm_skm_u7')),
    sa.CheckConstraint('u8 BETWEEN 1 AND 4', name=op.f('ck_analytics_skm_skm_u8')),
    sa.CheckConstraint('u9 BETWEEN 1 AND 4', name=op.f('ck_analytics_skm_skm_u9')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_skm'))
    )
    with op.batch_alter_table('analytics_skm', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_analytics_skm_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_analytics_skm_service'), ['service'], unique=False)

    op.create_table('forum_tags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_tags')),
    sa.UniqueConstraint('name', name=op.f('uq_forum_tags_name'))
    )
    op.create_table('kb_agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('short_name', sa.String(length=60), nullable=True),
    sa.Column('website', sa.String(length=300), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_agencies')),
    sa.UniqueConstraint('slug', name=op.f('uq_kb_agencies_slug'))
    )
    op.create_table('kb_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('name_en', sa.String(length=120), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_categories')),
    sa.UniqueConstraint('slug', name=op.f('uq_kb_categories_slug'))
    )
    op.create_table('rate_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bucket', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rate_events'))
    )
    with op.batch_alter_table('rate_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_events_bucket'), ['bucket'], unique=False)
        batch_op.create_index(batch_op.f('ix_rate_events_created_at'), ['created_at'], unique=False)

    op.create_table('search_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('doc_id', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('processed_at', sa.DateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_outbox'))
    )
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_outbox_doc_id'), ['doc_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_outbox_processed_at'), ['processed_at'], unique=False)

    op.create_table('search_vectors',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('model', sa.String(length=60), nullable=False),
    sa.Column('doc_id', sa.String(length=120), nullable=False),
    sa.Column('chunk_no', sa.Integer(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('vector', sa.LargeBinary(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_vectors')),
    sa.UniqueConstraint('model', 'doc_id', 'chunk_no', name='uq_search_vectors_chunk')
    )
    with op.batch_alter_table('search_vectors', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_search_vectors_doc_id'), ['doc_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_search_vectors_updated_at'), ['updated_at'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.Enum('MEMBER', 'MODERATOR', 'KNOWLEDGE_MANAGER', 'ADMIN', name='role', native_enum=False, length=20), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=True),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('suspended_until', sa.DateTime(), nullable=True),
    sa.Column('reputation', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_audit_log_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)

    op.create_table('forum_posts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('edited_at', sa.DateTime(), nullable=True),
    sa.Column('seed_key', sa.String(length=120), nullable=True),
    sa.Column('hidden_at', sa.DateTime(), nullable=True),
    sa.Column('hidden_reason', sa.String(length=300), nullable=True),
    sa.Column('deleted_at', sa.DateTime(), nullable=True),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_forum_posts_author_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_posts')),
    sa.UniqueConstraint('seed_key', name=op.f('uq_forum_posts_seed_key'))
    )
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_posts_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_posts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_posts_needs_review'), ['needs_review'], unique=False)

    op.create_table('kb_services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('duration_text', sa.String(length=300), nullable=False),
    sa.Column('duration_days', sa.Integer(), nullable=True),
    sa.Column('contact_phone', sa.String(length=100), nullable=True),
    sa.Column('contact_email', sa.String(length=200), nullable=True),
    sa.Column('contact_website', sa.String(length=300), nullable=True),
    sa.Column('contact_note', sa.Text(), nullable=True),
    sa.Column('notes_md', sa.Text(), nullable=False),
    sa.Column('notes_html', sa.Text(), nullable=False),
    sa.Column('last_reviewed', sa.Date(), nullable=False),
    sa.Column('review_interval_days', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['kb_agencies.id'], name=op.f('fk_kb_services_agency_id_kb_agencies')),
    sa.ForeignKeyConstraint(['category_id'], ['kb_categories.id'], name=op.f('fk_kb_services_category_id_kb_categories')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_services')),
    sa.UniqueConstraint('slug', name=op.f('uq_kb_services_slug'))
    )
    with op.batch_alter_table('kb_services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_services_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_services_category_id'), ['category_id'], unique=False)

    op.create_table('forum_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('seed_key', sa.String(length=140), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_forum_comments_author_id_users')),
    sa.ForeignKeyConstraint(['post_id'], ['forum_posts.id'], name=op.f('fk_forum_comments_post_id_forum_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_comments')),
    sa.UniqueConstraint('seed_key', name=op.f('uq_forum_comments_seed_key'))
    )
    with op.batch_alter_table('forum_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_comments_post_id'), ['post_id'], unique=False)

    op.create_table('forum_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['post_id'], ['forum_posts.id'], name=op.f('fk_forum_flags_post_id_forum_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_forum_flags_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_flags')),
    sa.UniqueConstraint('post_id', 'user_id', name='uq_forum_flags_post_user')
    )
    with op.batch_alter_table('forum_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_flags_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_flags_status'), ['status'], unique=False)

    op.create_table('forum_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('answer_count', sa.Integer(), nullable=False),
    sa.Column('last_activity_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_answer_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('locked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_forum_questions_closed_by_id_users')),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['forum_questions.id'], name=op.f('fk_forum_questions_duplicate_of_id_forum_questions')),
    sa.ForeignKeyConstraint(['id'], ['forum_posts.id'], name=op.f('fk_forum_questions_id_forum_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_questions'))
    )
    with op.batch_alter_table('forum_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_questions_last_activity_at'), ['last_activity_at'], unique=False)

    op.create_table('forum_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=True),
    sa.Column('tags', sa.String(length=300), nullable=True),
    sa.Column('body_md', sa.Text(), nullable=False),
    sa.Column('comment', sa.String(length=300), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_forum_revisions_author_id_users')),
    sa.ForeignKeyConstraint(['post_id'], ['forum_posts.id'], name=op.f('fk_forum_revisions_post_id_forum_posts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_revisions')),
    sa.UniqueConstraint('post_id', 'number', name='uq_forum_revisions_post_number')
    )
    with op.batch_alter_table('forum_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_revisions_post_id'), ['post_id'], unique=False)

    op.create_table('forum_votes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('value', sa.SmallInteger(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('value IN (-1, 1)', name=op.f('ck_forum_votes_vote_value')),
    sa.ForeignKeyConstraint(['post_id'], ['forum_posts.id'], name=op.f('fk_forum_votes_post_id_forum_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_forum_votes_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_votes')),
    sa.UniqueConstraint('post_id', 'user_id', name='uq_forum_votes_post_user')
    )
    with op.batch_alter_table('forum_votes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_votes_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_forum_votes_user_id'), ['user_id'], unique=False)

    op.create_table('kb_channels',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('url', sa.String(length=300), nullable=True),
    sa.Column('hours', sa.String(length=300), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['kb_services.id'], name=op.f('fk_kb_channels_service_id_kb_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_channels'))
    )
    with op.batch_alter_table('kb_channels', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_channels_service_id'), ['service_id'], unique=False)

    op.create_table('kb_fees',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=True),
    sa.Column('legal_basis', sa.String(length=300), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.CheckConstraint("kind IN ('fixed', 'free', 'variable')", name=op.f('ck_kb_fees_fee_kind')),
    sa.CheckConstraint('amount IS NULL OR amount >= 0', name=op.f('ck_kb_fees_fee_amount')),
    sa.ForeignKeyConstraint(['service_id'], ['kb_services.id'], name=op.f('fk_kb_fees_service_id_kb_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_fees'))
    )
    with op.batch_alter_table('kb_fees', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_fees_service_id'), ['service_id'], unique=False)

    op.create_table('kb_legal_bases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['kb_services.id'], name=op.f('fk_kb_legal_bases_service_id_kb_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_legal_bases'))
    )
    with op.batch_alter_table('kb_legal_bases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_legal_bases_service_id'), ['service_id'], unique=False)

    op.create_table('kb_requirements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['kb_services.id'], name=op.f('fk_kb_requirements_service_id_kb_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_requirements'))
    )
    with op.batch_alter_table('kb_requirements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_requirements_service_id'), ['service_id'], unique=False)

    op.create_table('kb_service_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('base_version', sa.Integer(), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('reviewer_id', sa.Integer(), nullable=True),
    sa.Column('review_note', sa.Text(), nullable=False),
    sa.Column('source_answer_id', sa.Integer(), nullable=True),
    sa.Column('credited_user_id', sa.Integer(), nullable=True),
    sa.Column('published_version', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_kb_service_drafts_author_id_users')),
    sa.ForeignKeyConstraint(['credited_user_id'], ['users.id'], name=op.f('fk_kb_service_drafts_credited_user_id_users')),
    sa.ForeignKeyConstraint(['reviewer_id'], ['users.id'], name=op.f('fk_kb_service_drafts_reviewer_id_users')),
    sa.ForeignKeyConstraint(['service_id'], ['kb_services.id'], name=op.f('fk_kb_service_drafts_service_id_kb_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_service_drafts'))
    )
    with op.batch_alter_table('kb_service_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_service_drafts_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kb_service_drafts_status'), ['status'], unique=False)

    op.create_table('kb_service_faqs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('question', sa.String(length=200), nullable=False),
    sa.Column('answer_md', sa.Text(), nullable=False),
    sa.Column('answer_html', sa.Text(), nullable=False),
    sa.Column('source_answer_id', sa.Integer(), nullable=True),
    sa.Column('credited_user_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('stale_since', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_kb_service_faqs_created_by_id_users')),
    sa.ForeignKeyConstraint(['credited_user_id'], ['users.id'], name=op.f('fk_kb_service_faqs_credited_user_id_users')),
    sa.ForeignKeyConstraint(['service_id'], ['kb_services.id'], name=op.f('fk_kb_service_faqs_service_id_kb_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_service_faqs'))
    )
    with op.batch_alter_table('kb_service_faqs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_service_faqs_service_id'), ['service_id'], unique=False)

    op.create_table('kb_service_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('changed_fields', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_kb_service_versions_author_id_users')),
    sa.ForeignKeyConstraint(['service_id'], ['kb_services.id'], name=op.f('fk_kb_service_versions_service_id_kb_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_service_versions')),
    sa.UniqueConstraint('service_id', 'number', name='uq_kb_service_versions_number')
    )
    with op.batch_alter_table('kb_service_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_service_versions_service_id'), ['service_id'], unique=False)

    op.create_table('kb_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['kb_services.id'], name=op.f('fk_kb_steps_service_id_kb_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_steps'))
    )
    with op.batch_alter_table('kb_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kb_steps_service_id'), ['service_id'], unique=False)

    op.create_table('forum_answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('promoted_at', sa.DateTime(), nullable=True),
    sa.Column('promoted_to', sa.String(length=200), nullable=True),
    sa.Column('stale_since', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['id'], ['forum_posts.id'], name=op.f('fk_forum_answers_id_forum_posts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['forum_questions.id'], name=op.f('fk_forum_answers_question_id_forum_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forum_answers'))
    )
    with op.batch_alter_table('forum_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_answers_question_id'), ['question_id'], unique=False)

    # Questions and answers point at each other: the accepted-answer key can
    # only be added once both tables exist.
    with op.batch_alter_table('forum_questions', schema=None) as batch_op:
        batch_op.create_foreign_key('fk_forum_questions_accepted', 'forum_answers', ['accepted_answer_id'], ['id'],
                                    ondelete='SET NULL')

    op.create_table('forum_question_services',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['forum_questions.id'], name=op.f('fk_forum_question_services_question_id_forum_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['kb_services.id'], name=op.f('fk_forum_question_services_service_id_kb_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'service_id', name=op.f('pk_forum_question_services'))
    )
    with op.batch_alter_table('forum_question_services', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_forum_question_services_service_id'), ['service_id'], unique=False)

    op.create_table('forum_question_tags',
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['forum_questions.id'], name=op.f('fk_forum_question_tags_question_id_forum_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['forum_tags.id'], name=op.f('fk_forum_question_tags_tag_id_forum_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('question_id', 'tag_id', name=op.f('pk_forum_question_tags'))
    )


def downgrade():
    with op.batch_alter_table('forum_questions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_forum_questions_accepted', type_='foreignkey')
    op.drop_table('forum_question_tags')
    with op.batch_alter_table('forum_question_services', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_question_services_service_id'))

    op.drop_table('forum_question_services')
    with op.batch_alter_table('forum_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_answers_question_id'))

    op.drop_table('forum_answers')
    with op.batch_alter_table('kb_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_steps_service_id'))

    op.drop_table('kb_steps')
    with op.batch_alter_table('kb_service_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_service_versions_service_id'))

    op.drop_table('kb_service_versions')
    with op.batch_alter_table('kb_service_faqs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_service_faqs_service_id'))

    op.drop_table('kb_service_faqs')
    with op.batch_alter_table('kb_service_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_service_drafts_status'))
        batch_op.drop_index(batch_op.f('ix_kb_service_drafts_service_id'))

    op.drop_table('kb_service_drafts')
    with op.batch_alter_table('kb_requirements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_requirements_service_id'))

    op.drop_table('kb_requirements')
    with op.batch_alter_table('kb_legal_bases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_legal_bases_service_id'))

    op.drop_table('kb_legal_bases')
    with op.batch_alter_table('kb_fees', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_fees_service_id'))

    op.drop_table('kb_fees')
    with op.batch_alter_table('kb_channels', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_channels_service_id'))

    op.drop_table('kb_channels')
    with op.batch_alter_table('forum_votes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_votes_user_id'))
        batch_op.drop_index(batch_op.f('ix_forum_votes_post_id'))

    op.drop_table('forum_votes')
    with op.batch_alter_table('forum_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_revisions_post_id'))

    op.drop_table('forum_revisions')
    with op.batch_alter_table('forum_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_questions_last_activity_at'))

    op.drop_table('forum_questions')
    with op.batch_alter_table('forum_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_flags_status'))
        batch_op.drop_index(batch_op.f('ix_forum_flags_post_id'))

    op.drop_table('forum_flags')
    with op.batch_alter_table('forum_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_comments_post_id'))

    op.drop_table('forum_comments')
    with op.batch_alter_table('kb_services', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kb_services_category_id'))
        batch_op.drop_index(batch_op.f('ix_kb_services_agency_id'))

    op.drop_table('kb_services')
    with op.batch_alter_table('forum_posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_forum_posts_needs_review'))
        batch_op.drop_index(batch_op.f('ix_forum_posts_created_at'))
        batch_op.drop_index(batch_op.f('ix_forum_posts_author_id'))

    op.drop_table('forum_posts')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
    op.drop_table('users')
    with op.batch_alter_table('search_vectors', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_vectors_updated_at'))
        batch_op.drop_index(batch_op.f('ix_search_vectors_doc_id'))

    op.drop_table('search_vectors')
    with op.batch_alter_table('search_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_search_outbox_processed_at'))
        batch_op.drop_index(batch_op.f('ix_search_outbox_doc_id'))

    op.drop_table('search_outbox')
    with op.batch_alter_table('rate_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rate_events_created_at'))
        batch_op.drop_index(batch_op.f('ix_rate_events_bucket'))

    op.drop_table('rate_events')
    op.drop_table('kb_categories')
    op.drop_table('kb_agencies')
    op.drop_table('forum_tags')
    with op.batch_alter_table('analytics_skm', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_skm_service'))
        batch_op.drop_index(batch_op.f('ix_analytics_skm_created_at'))

    op.drop_table('analytics_skm')
    with op.batch_alter_table('analytics_searches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_searches_query'))
        batch_op.drop_index(batch_op.f('ix_analytics_searches_created_at'))

    op.drop_table('analytics_searches')
    with op.batch_alter_table('analytics_funnel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_funnel_step'))
        batch_op.drop_index(batch_op.f('ix_analytics_funnel_service'))
        batch_op.drop_index(batch_op.f('ix_analytics_funnel_funnel'))
        batch_op.drop_index(batch_op.f('ix_analytics_funnel_created_at'))

    op.drop_table('analytics_funnel')
    with op.batch_alter_table('analytics_feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_feedback_target'))
        batch_op.drop_index(batch_op.f('ix_analytics_feedback_created_at'))

    op.drop_table('analytics_feedback')
    with op.batch_alter_table('analytics_escalations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_analytics_escalations_target'))
        batch_op.drop_index(batch_op.f('ix_analytics_escalations_service'))
        batch_op.drop_index(batch_op.f('ix_analytics_escalations_created_at'))

    op.drop_table('analytics_escalations')
