-- cmp serve on PostgreSQL: certificates issued but not yet confirmed.
-- A certificate is inserted with unconfirmed = true; certConf (or implicit
-- confirmation, or delivery in a krp) sets it to false. The sweep revokes
-- certificates still unconfirmed long after their issue that no open
-- transaction holds: issued, but an instance crashed before the transaction
-- that was to deliver them was updated (RFC 9810: a certificate whose
-- certConf never comes is revoked). Rows written before this migration are
-- false and left alone.
ALTER TABLE cmp_issued ADD COLUMN unconfirmed boolean NOT NULL DEFAULT false;
CREATE INDEX cmp_issued_unconfirmed ON cmp_issued (issued_at) WHERE unconfirmed;
