-- The outbox is claimed before it is sent, so that several instances of the
-- service on one database send each message once (internal/store/outbox.go).
-- claimed_until is the end of a sender's lease (a sender that crashed leaves
-- its messages to the others once it has passed) or, after a failed send, the
-- instant the message is due again (the backoff); claimed_by names the sender
-- holding the lease ('' when none does) and, once sent, the one that sent it.
ALTER TABLE notifications ADD COLUMN claimed_until TIMESTAMP;
ALTER TABLE notifications ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
