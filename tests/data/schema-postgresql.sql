-- The gateway store's schema as metadata.create_all made it before migrations (postgresql),
-- frozen for tests/gateway/test_migrations.py: a database from before alembic. Do not edit.

CREATE TABLE audit_log (
	id SERIAL NOT NULL,
	at TIMESTAMP WITH TIME ZONE NOT NULL,
	actor VARCHAR(64) NOT NULL,
	role VARCHAR(16) NOT NULL,
	action VARCHAR(32) NOT NULL,
	target VARCHAR(128) NOT NULL,
	address VARCHAR(64) NOT NULL,
	detail TEXT NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_audit_log_at ON audit_log (at);

CREATE TABLE conversations (
	sender_id VARCHAR(128) NOT NULL,
	channel VARCHAR(32) NOT NULL,
	firm_uscc VARCHAR(18),
	needs_resume BOOLEAN NOT NULL,
	reply_url TEXT,
	reply_url_at TIMESTAMP WITH TIME ZONE,
	token_hash VARCHAR(64),
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (sender_id)
);

CREATE TABLE escalation_events (
	id SERIAL NOT NULL,
	escalation_id INTEGER NOT NULL,
	kind VARCHAR(16) NOT NULL,
	actor VARCHAR(64) NOT NULL,
	detail TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_escalation_events_escalation_id ON escalation_events (escalation_id);

CREATE TABLE escalations (
	id SERIAL NOT NULL,
	sender_id VARCHAR(128) NOT NULL,
	channel VARCHAR(32) NOT NULL,
	status VARCHAR(16) NOT NULL,
	open_key VARCHAR(128),
	firm_uscc VARCHAR(18),
	firm_name VARCHAR(200),
	question TEXT NOT NULL,
	department VARCHAR(64),
	liaison VARCHAR(64),
	backup_liaison VARCHAR(64),
	claimed_by VARCHAR(64),
	packet TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	due_at TIMESTAMP WITH TIME ZONE NOT NULL,
	first_response_at TIMESTAMP WITH TIME ZONE,
	resolved_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id),
	UNIQUE (open_key)
);

CREATE INDEX ix_escalations_sender_id ON escalations (sender_id);

CREATE TABLE firms (
	uscc VARCHAR(18) NOT NULL,
	name VARCHAR(200) NOT NULL,
	level VARCHAR(32) NOT NULL,
	town VARCHAR(64),
	industry VARCHAR(64),
	liaison VARCHAR(64),
	backup_liaison VARCHAR(64),
	demo BOOLEAN NOT NULL,
	PRIMARY KEY (uscc)
);

CREATE TABLE liaisons (
	username VARCHAR(64) NOT NULL,
	password_hash VARCHAR(256) NOT NULL,
	name VARCHAR(64) NOT NULL,
	department VARCHAR(64) NOT NULL,
	wecom_userid VARCHAR(64),
	status VARCHAR(16) NOT NULL,
	demo BOOLEAN NOT NULL,
	role VARCHAR(16) DEFAULT 'liaison' NOT NULL,
	PRIMARY KEY (username)
);

CREATE TABLE messages (
	id SERIAL NOT NULL,
	sender_id VARCHAR(128) NOT NULL,
	role VARCHAR(16) NOT NULL,
	text TEXT NOT NULL,
	sources TEXT NOT NULL,
	buttons TEXT NOT NULL,
	author VARCHAR(64),
	escalation_id INTEGER,
	status VARCHAR(16) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_messages_sender_id ON messages (sender_id);

CREATE TABLE notes (
	id SERIAL NOT NULL,
	escalation_id INTEGER NOT NULL,
	author VARCHAR(64) NOT NULL,
	text TEXT NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (id)
);

CREATE INDEX ix_notes_escalation_id ON notes (escalation_id);

CREATE TABLE outbound (
	id SERIAL NOT NULL,
	kind VARCHAR(16) NOT NULL,
	target VARCHAR(512) NOT NULL,
	text TEXT NOT NULL,
	status VARCHAR(16) NOT NULL,
	attempts INTEGER NOT NULL,
	last_error TEXT,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	not_before TIMESTAMP WITH TIME ZONE NOT NULL,
	sent_at TIMESTAMP WITH TIME ZONE,
	PRIMARY KEY (id)
);

CREATE INDEX ix_outbound_sent_at ON outbound (sent_at);

CREATE TABLE purged_counts (
	day VARCHAR(10) NOT NULL,
	channel VARCHAR(32) NOT NULL,
	conversations INTEGER NOT NULL,
	user_messages INTEGER NOT NULL,
	bot_messages INTEGER NOT NULL,
	PRIMARY KEY (day, channel)
);

CREATE TABLE reminders_sent (
	escalation_id INTEGER NOT NULL,
	stage VARCHAR(16) NOT NULL,
	sent_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (escalation_id, stage)
);

CREATE TABLE seen_keys (
	key VARCHAR(200) NOT NULL,
	created_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (key)
);

CREATE TABLE tokens (
	token_hash VARCHAR(64) NOT NULL,
	username VARCHAR(64) NOT NULL,
	expires_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (token_hash)
);

CREATE TABLE wecom_chats (
	chat_id VARCHAR(128) NOT NULL,
	uscc VARCHAR(18) NOT NULL,
	webhook_key VARCHAR(128),
	PRIMARY KEY (chat_id)
);

CREATE TABLE wecom_kf_cursors (
	open_kfid VARCHAR(128) NOT NULL,
	cursor VARCHAR(128) NOT NULL,
	token VARCHAR(256),
	token_at TIMESTAMP WITH TIME ZONE,
	updated_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (open_kfid)
);

CREATE TABLE wecom_kf_customers (
	external_userid VARCHAR(128) NOT NULL,
	uscc VARCHAR(18) NOT NULL,
	bound_by VARCHAR(64) NOT NULL,
	bound_at TIMESTAMP WITH TIME ZONE NOT NULL,
	PRIMARY KEY (external_userid)
);
